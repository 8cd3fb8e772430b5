/* netfleet dashboard: small progressive enhancements, no dependencies.
 * - main[data-refresh=N]: re-fetch the page every N seconds and swap <main> (tab visible only)
 * - a[data-task-outputs]: expand a task's outputs inline under its row
 * - main[data-stream=URL]: live job updates over server-sent events
 * - form[data-confirm]: ask before submitting
 * - form#job-form: show the fields of the chosen kind and time, live target and cron previews
 * - #tz-browser: fill in the browser's time zone on the preferences page
 * Everything from the server is inserted as text, except fragments of our own pages
 * (already escaped by the server's templates). */
(function () {
  "use strict";
  var main = document.getElementById("main");
  if (!main) return;

  function parsePage(text) {
    return new DOMParser().parseFromString(text, "text/html");
  }

  function fetchPage(url) {
    return fetch(url, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
      .then(function (r) {
        if (r.redirected && r.url.indexOf("/login") !== -1) {
          window.location.reload();
          throw new Error("signed out");
        }
        if (!r.ok) throw new Error("HTTP " + r.status);
        return r.text();
      })
      .then(parsePage);
  }

  function busy() {
    var a = document.activeElement;
    return (a && main.contains(a) && /^(INPUT|SELECT|TEXTAREA)$/.test(a.tagName)) ||
      main.querySelector("tr.expand") !== null;
  }

  function softRefresh() {
    return fetchPage(window.location.href).then(function (doc) {
      var fresh = doc.getElementById("main");
      if (fresh) main.innerHTML = fresh.innerHTML;
    });
  }

  /* periodic refresh */
  var every = parseInt(main.getAttribute("data-refresh") || "0", 10);
  if (every > 0) {
    window.setInterval(function () {
      if (!document.hidden && !busy()) softRefresh().catch(function () {});
    }, every * 1000);
  }

  /* confirmations */
  document.addEventListener("submit", function (ev) {
    var form = ev.target;
    var text = form.getAttribute && form.getAttribute("data-confirm");
    if (text && !window.confirm(text)) ev.preventDefault();
  });

  /* task outputs, expanded inline */
  function expandRow(link) {
    var row = link.closest("tr");
    var next = row.nextElementSibling;
    if (next && next.classList.contains("expand")) {
      next.remove();
      link.textContent = "show";
      link.setAttribute("aria-expanded", "false");
      return;
    }
    link.textContent = "loading…";
    fetchPage(link.getAttribute("data-task-outputs")).then(function (doc) {
      var outputs = doc.getElementById("outputs");
      var tr = document.createElement("tr");
      tr.className = "expand";
      tr.setAttribute("data-for", row.getAttribute("data-task") || "");
      var td = document.createElement("td");
      td.colSpan = row.children.length;
      if (outputs) td.appendChild(document.importNode(outputs, true));
      tr.appendChild(td);
      row.after(tr);
      link.textContent = "hide";
      link.setAttribute("aria-expanded", "true");
    }).catch(function () { link.textContent = "show"; });
  }
  document.addEventListener("click", function (ev) {
    var link = ev.target.closest && ev.target.closest("a[data-task-outputs]");
    if (!link || ev.ctrlKey || ev.metaKey || ev.shiftKey) return;
    ev.preventDefault();
    expandRow(link);
  });

  /* the new-job form */
  function debounce(fn, ms) {
    var timer = null;
    return function () {
      if (timer) window.clearTimeout(timer);
      timer = window.setTimeout(fn, ms);
    };
  }

  function getJson(url) {
    return fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) {
        if (!r.ok) throw new Error("HTTP " + r.status);
        return r.json();
      });
  }

  function para(text, cls) {
    var p = document.createElement("p");
    if (cls) p.className = cls;
    p.textContent = text;
    return p;
  }

  function setupJobForm(form) {
    function checked(name) {
      var el = form.querySelector('input[name="' + name + '"]:checked');
      return el ? el.value : "";
    }
    function sync() {
      [["kind", "data-when-kind"], ["when", "data-when-when"]].forEach(function (pair) {
        var value = checked(pair[0]);
        form.querySelectorAll("[" + pair[1] + "]").forEach(function (el) {
          el.hidden = el.getAttribute(pair[1]).split(" ").indexOf(value) === -1;
        });
      });
    }
    form.addEventListener("change", function (ev) {
      if (ev.target.hasAttribute && ev.target.hasAttribute("data-switch")) sync();
    });
    sync();

    var box = document.getElementById("target-preview");
    var seq = 0;
    var refreshTargets = debounce(function () {
      var q = new URLSearchParams();
      q.set("devices", form.elements.devices.value);
      q.set("filter", form.elements.filter.value);
      Array.prototype.forEach.call(form.elements.groups.selectedOptions || [], function (o) {
        q.append("groups", o.value);
      });
      var mine = ++seq;
      getJson(form.getAttribute("data-targets-url") + "?" + q.toString()).then(function (data) {
        if (mine !== seq || !box) return;
        box.textContent = "";
        if (data.error) {
          var err = para(data.error, "error");
          err.id = "target-count";
          box.appendChild(err);
          return;
        }
        var head = para("", "");
        head.id = "target-count";
        var b = document.createElement("b");
        b.textContent = String(data.count);
        head.appendChild(b);
        head.appendChild(document.createTextNode(data.count === 1 ? " device matches" : " devices match"));
        box.appendChild(head);
        if (!data.devices.length) return;
        var ul = document.createElement("ul");
        ul.className = "names";
        ul.id = "target-names";
        data.devices.forEach(function (name) {
          var li = document.createElement("li");
          li.textContent = name;
          ul.appendChild(li);
        });
        if (data.more) {
          var more = document.createElement("li");
          more.className = "sub";
          more.textContent = "… and " + data.more + " more";
          ul.appendChild(more);
        }
        box.appendChild(ul);
      }).catch(function () {});
    }, 250);
    form.querySelectorAll("[data-targets]").forEach(function (el) {
      el.addEventListener("input", refreshTargets);
      el.addEventListener("change", refreshTargets);
    });
    if (form.elements.devices.value || form.elements.filter.value ||
        (form.elements.groups.selectedOptions || []).length) refreshTargets();

    var cronBox = document.getElementById("cron-preview");
    var cronSeq = 0;
    var refreshCron = debounce(function () {
      if (!cronBox || !form.elements.cron) return;
      var q = new URLSearchParams();
      q.set("cron", form.elements.cron.value);
      q.set("timezone", form.elements.timezone.value);
      var mine = ++cronSeq;
      getJson(form.getAttribute("data-cron-url") + "?" + q.toString()).then(function (data) {
        if (mine !== cronSeq) return;
        cronBox.textContent = "";
        if (data.error) { cronBox.appendChild(para(data.error, "error")); return; }
        if (!data.firings.length) { cronBox.appendChild(para("Preview shows the next 5 firings.", "sub")); return; }
        cronBox.appendChild(para("Next " + data.firings.length + " firings in " + form.elements.timezone.value + ":"));
        var ol = document.createElement("ol");
        ol.className = "firings";
        data.firings.forEach(function (f) {
          var li = document.createElement("li");
          var t = document.createElement("time");
          t.textContent = f;
          li.appendChild(t);
          ol.appendChild(li);
        });
        cronBox.appendChild(ol);
      }).catch(function () {});
    }, 250);
    form.querySelectorAll("[data-cron]").forEach(function (el) {
      el.addEventListener("input", refreshCron);
    });
  }
  var jobForm = document.getElementById("job-form");
  if (jobForm) setupJobForm(jobForm);

  var tzButton = document.getElementById("tz-browser");
  var tzInput = document.getElementById("tz-input");
  if (tzButton && tzInput && window.Intl) {
    var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (zone) {
      tzButton.hidden = false;
      tzButton.textContent = "Use my browser's zone (" + zone + ")";
      tzButton.addEventListener("click", function () { tzInput.value = zone; tzInput.focus(); });
    }
  }

  /* live job updates */
  var streamUrl = main.getAttribute("data-stream");
  if (!streamUrl || !window.EventSource) return;

  function setBadge(el, state) {
    if (!el) return;
    var badge = el.querySelector(".badge") || el;
    badge.className = "badge st-" + state;
    badge.textContent = state;
  }

  var ORDER = ["succeeded", "failed", "cancelled", "running", "retrying", "queued"];
  function drawBar(counts) {
    var bar = document.getElementById("job-progress");
    if (!bar) return;
    var total = counts.total || 1;
    bar.textContent = "";
    var title = [];
    ORDER.forEach(function (s) {
      var n = counts[s] || 0;
      if (!n) return;
      var seg = document.createElement("span");
      var w = Math.max(1, Math.min(100, Math.round(n * 100 / total)));
      seg.className = "seg st-" + s + " w" + w;
      seg.setAttribute("data-state", s);
      bar.appendChild(seg);
      title.push(s + " " + n);
    });
    bar.title = title.join(", ");
  }

  function onJob(data) {
    setBadge(document.getElementById("job-state"), data.state);
    Object.keys(data.counts).forEach(function (s) {
      var el = document.querySelector('[data-count="' + s + '"]');
      if (el) el.textContent = String(data.counts[s]);
    });
    drawBar(data.counts);
    if (data.finished) {
      var form = document.getElementById("cancel-form");
      if (form) form.hidden = true;
    }
  }

  function onTask(data) {
    var row = document.getElementById("task-" + data.id);
    if (!row) return;
    setBadge(row.querySelector('[data-field="state"]'), data.state);
    ["attempt", "started", "duration", "error"].forEach(function (f) {
      var cell = row.querySelector('[data-field="' + f + '"]');
      if (cell) cell.textContent = data[f];
    });
    var open = row.nextElementSibling;
    if (open && open.classList.contains("expand")) {
      var link = row.querySelector("a[data-task-outputs]");
      open.remove();
      if (link) expandRow(link);
    }
  }

  function onActivity(data) {
    var list = document.getElementById("activity");
    if (!list) return;
    var empty = list.querySelector(".empty");
    if (empty) empty.remove();
    var atBottom = list.scrollTop + list.clientHeight >= list.scrollHeight - 4;
    var li = document.createElement("li");
    [["time", data.at], ["span.kind", data.kind], ["span.dev", data.device], ["span.msg", data.message]]
      .forEach(function (part) {
        if (!part[1]) return;
        var bits = part[0].split(".");
        var el = document.createElement(bits[0]);
        if (bits[1]) el.className = bits[1];
        el.textContent = part[1];
        li.appendChild(el);
        li.appendChild(document.createTextNode(" "));
      });
    list.appendChild(li);
    while (list.children.length > 500) list.removeChild(list.firstChild);
    if (atBottom) list.scrollTop = list.scrollHeight;
  }

  var live = document.getElementById("live");
  var source = new EventSource(streamUrl, { withCredentials: true });
  function handle(name, fn) {
    source.addEventListener(name, function (ev) {
      try { fn(JSON.parse(ev.data)); } catch (e) { /* a malformed frame is skipped */ }
    });
  }
  handle("job", onJob);
  handle("task", onTask);
  handle("activity", onActivity);
  handle("end", function () {
    source.close();
    if (live) live.hidden = true;
    main.removeAttribute("data-stream");
    softRefresh().catch(function () {});
  });
  source.onerror = function () {
    if (source.readyState === EventSource.CLOSED && live) {
      live.textContent = "live updates stopped — reload";
      live.className = "sub";
    }
  };
})();

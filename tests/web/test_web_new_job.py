"""The new-job form over HTTP: roles, CSRF, previews without JavaScript, submission
through the API's validation and policy, schedules, and the JSON previews."""

from __future__ import annotations

import html
import re

import pytest

from netfleet.store import SqlStore
from netfleet.web.jobform import JobDraft, parse_variables
from tests.support.store import add_devices
from tests.support.web import BASE, MakeClient, csrf_of

COMMANDS = {"devices": "edge-000, edge-001", "commands": "show version\n\nshow clock\n"}


async def _form(client: object) -> str:
    page = await client.get("/ui/jobs/new")  # type: ignore[attr-defined]
    assert page.status_code == 200, page.text
    return str(page.text)


def alert(page: str) -> str:
    found = re.search(r'role="alert"[^>]*>([^<]*)<', page)
    return html.unescape(found.group(1)) if found else ""


async def test_viewer_sees_no_form_and_cannot_post(browser: MakeClient, store: SqlStore) -> None:
    await add_devices(store, 2)
    viewer = await browser("viewer")
    overview = (await viewer.get("/ui/")).text
    assert "/ui/jobs/new" not in overview  # no "New job" link
    page = await viewer.get("/ui/jobs/new")
    assert page.status_code == 403
    assert 'id="job-form"' not in page.text
    assert "operator role" in page.text
    r = await viewer.post(
        "/ui/jobs/new", data={"csrf": csrf_of(overview), "action": "submit", **COMMANDS}
    )
    assert r.status_code == 403
    assert (await store.jobs.list()).items == ()


async def test_operator_submits_a_command_job(browser: MakeClient, store: SqlStore) -> None:
    await add_devices(store, 3)
    operator = await browser("operator")
    form = await _form(operator)
    assert 'value="config"' in form
    assert re.search(r'value="config"[^>]*disabled', form)
    assert 'name="config"' not in form  # operators get no config field at all
    assert re.search(r'value="cron"[^>]*disabled', form)
    data = {
        "csrf": csrf_of(form),
        "nonce": "n1",
        "action": "submit",
        "name": "clock check",
        "parse": "1",
        "failure_strategy": "abort_first",
        "command_timeout_s": "12.5",
        **COMMANDS,
    }
    r = await operator.post("/ui/jobs/new", data=data)
    assert r.status_code == 303, alert(r.text)
    found = re.search(r"/ui/jobs/(\d+)\?notice=submitted", r.headers["location"])
    assert found, r.headers["location"]
    job_id = int(found.group(1))
    job = await store.jobs.get(job_id, tasks=True, outputs=False)
    assert job.spec.commands == ["show version", "show clock"]
    assert [t.device_name for t in job.tasks or ()] == ["edge-000", "edge-001"]
    assert job.spec.name == "clock check"
    assert job.spec.options.parse == "textfsm"
    assert job.spec.options.failure_strategy == "abort_first"
    assert job.spec.options.command_timeout_s == 12.5
    shown = await operator.get(r.headers["location"])
    assert "Job submitted." in shown.text
    # The same form sent twice (double click, reload) is one job.
    again = await operator.post("/ui/jobs/new", data=data)
    assert again.headers["location"] == r.headers["location"]
    assert len((await store.jobs.list()).items) == 1
    entries = await store.audit.list(limit=10)
    assert any(
        (e.detail or {}).get("job_id") == job_id and e.actor == "t-operator" for e in entries
    )


async def test_operator_cannot_send_config_or_privileged_commands(
    browser: MakeClient, store: SqlStore
) -> None:
    await add_devices(store, 1)
    operator = await browser("operator")
    csrf = csrf_of(await _form(operator))
    config = {"devices": "edge-000", "kind": "config", "config": "ntp server 192.0.2.1"}
    r = await operator.post("/ui/jobs/new", data={"csrf": csrf, "action": "submit", **config})
    assert r.status_code == 403
    assert "admin role" in alert(r.text)
    priv = {"devices": "edge-000", "commands": "configure terminal"}
    r = await operator.post("/ui/jobs/new", data={"csrf": csrf, "action": "submit", **priv})
    assert r.status_code == 403
    assert "privileged command" in alert(r.text)
    sched = {**COMMANDS, "when": "cron", "cron": "0 * * * *", "schedule_name": "hourly"}
    r = await operator.post("/ui/jobs/new", data={"csrf": csrf, "action": "submit", **sched})
    assert r.status_code == 403
    assert "admin role" in alert(r.text)
    assert (await store.jobs.list()).items == ()
    assert await store.schedules.list() == []


async def test_admin_submits_config_at_a_time_in_a_zone(
    browser: MakeClient, store: SqlStore
) -> None:
    await add_devices(store, 2)
    admin = await browser("admin")
    data = {
        "csrf": csrf_of(await _form(admin)),
        "action": "submit",
        "devices": "edge-001",
        "kind": "config",
        "config": "ntp server 192.0.2.1\n ntp source Loopback0\n\n",
        "dry_run": "1",
        "when": "at",
        "run_at": "2031-07-01T09:30",
        "timezone": "Europe/Berlin",
    }
    r = await admin.post("/ui/jobs/new", data=data)
    assert r.status_code == 303, alert(r.text)
    job = (await store.jobs.list()).items[0]
    assert job.spec.config == ["ntp server 192.0.2.1", " ntp source Loopback0"]
    assert job.spec.options.dry_run is True
    assert job.spec.options.run_at is not None
    assert job.spec.options.run_at.isoformat() == "2031-07-01T09:30:00+02:00"


async def test_preview_without_javascript_lists_devices_and_firings(
    browser: MakeClient, store: SqlStore
) -> None:
    await add_devices(store, 60)
    admin = await browser("admin")
    data = {
        "csrf": csrf_of(await _form(admin)),
        "action": "preview",
        "filter": "name=edge-0*",
        "commands": "show version",
        "when": "cron",
        "cron": "30 2 * * *",
        "timezone": "America/New_York",
        "schedule_name": "nightly",
    }
    r = await admin.post("/ui/jobs/new", data=data)
    assert r.status_code == 200
    assert "<b>60</b> devices match" in r.text
    assert r.text.count("<li>edge-0") == 50
    assert "… and 10 more" in r.text
    firings = re.findall(r"<li><time>([^<]+)</time></li>", r.text)
    assert len(firings) == 5
    assert all("02:30 E" in f for f in firings)  # EST/EDT wall time
    assert 'value="name=edge-0*"' in r.text  # the form keeps what was typed
    assert (await store.jobs.list()).items == ()
    bad = {**data, "filter": "", "devices": "edge-000 ghost-1", "cron": "61 * * * *"}
    r = await admin.post("/ui/jobs/new", data=bad)
    assert "unknown device(s) &#39;ghost-1&#39;" in r.text
    assert "minute" in r.text.lower()


async def test_admin_creates_a_schedule(browser: MakeClient, store: SqlStore) -> None:
    await add_devices(store, 1)
    admin = await browser("admin")
    data = {
        "csrf": csrf_of(await _form(admin)),
        "action": "submit",
        "devices": "edge-000",
        "commands": "show clock",
        "when": "cron",
        "cron": "*/10 * * * *",
        "timezone": "Asia/Tokyo",
        "schedule_name": "clock-10",
    }
    r = await admin.post("/ui/jobs/new", data=data)
    assert r.status_code == 303, alert(r.text)
    assert r.headers["location"] == "/ui/schedules?notice=created"
    (schedule,) = await store.schedules.list()
    assert (schedule.name, schedule.spec.expression, schedule.spec.timezone) == (
        "clock-10",
        "*/10 * * * *",
        "Asia/Tokyo",
    )
    r = await admin.post("/ui/jobs/new", data=data)
    assert r.status_code == 422
    assert "clock-10" in alert(r.text)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"devices": "", "filter": ""}, "targets"),
        ({"commands": "   "}, "at least one command"),
        ({"command_timeout_s": "soon"}, "is not a number"),
        ({"failure_n": "0"}, "greater than 0"),
        ({"when": "at", "run_at": "tomorrow"}, "not a date and time"),
        ({"when": "at", "run_at": "2031-01-01T00:00", "timezone": "Mars/Base"}, "unknown time"),
        ({"devices": "ghost"}, "unknown device"),
    ],
)
async def test_bad_input_names_the_field(
    browser: MakeClient, store: SqlStore, fields: dict[str, str], message: str
) -> None:
    await add_devices(store, 1)
    operator = await browser("operator")
    data = {"csrf": csrf_of(await _form(operator)), "action": "submit", **COMMANDS}
    data.update({"devices": "edge-000"})
    data.update(fields)
    r = await operator.post("/ui/jobs/new", data=data)
    assert r.status_code == 422
    assert message in alert(r.text)
    assert 'aria-invalid="true"' in r.text
    assert (await store.jobs.list()).items == ()


async def test_every_new_post_needs_csrf_and_same_origin(
    browser: MakeClient, store: SqlStore
) -> None:
    await add_devices(store, 1)
    admin = await browser("admin")
    other = await browser("operator")  # another session: another CSRF token
    token = csrf_of(await _form(admin))
    foreign = csrf_of((await other.get("/ui/")).text)
    posts = [
        ("/ui/jobs/new", {"action": "submit", **COMMANDS, "devices": "edge-000"}),
        ("/ui/jobs/new", {"action": "preview", **COMMANDS}),
        ("/ui/prefs/timezone", {"timezone": "Europe/Paris", "next": "/ui/"}),
    ]
    for path, data in posts:
        for csrf, headers in (
            (None, {}),
            ("f" * 64, {}),
            (foreign, {}),
            (token, {"Origin": "https://evil.example"}),
        ):
            body = dict(data) if csrf is None else {**data, "csrf": csrf}
            r = await admin.post(path, data=body, headers=headers)
            assert r.status_code == 403, (path, csrf, headers)
            assert "netfleet_tz" not in r.headers.get("set-cookie", "")
        ok = await admin.post(path, data={**data, "csrf": token}, headers={"Origin": BASE})
        assert ok.status_code in (200, 303), (path, ok.status_code)
    assert len((await store.jobs.list()).items) == 1


async def test_json_previews(browser: MakeClient, store: SqlStore) -> None:
    await add_devices(store, 3)
    viewer = await browser("viewer")
    r = await viewer.get("/ui/targets/preview", params={"groups": "core", "filter": "name=*1"})
    assert r.json() == {"count": 1, "devices": ["edge-001"], "more": 0, "error": None}
    assert r.headers["content-security-policy"].startswith("default-src 'none'")
    r = await viewer.get("/ui/targets/preview", params={"groups": "nope"})
    assert r.json()["error"] == "targets.groups: unknown group(s) 'nope'"
    r = await viewer.get("/ui/targets/preview")
    assert r.json() == {"count": 0, "devices": [], "more": 0, "error": None}
    r = await viewer.get("/ui/schedules/preview", params={"cron": "0 12 * * 1", "timezone": "UTC"})
    assert [f[:3] for f in r.json()["firings"]] == ["Mon"] * 5
    r = await viewer.get("/ui/schedules/preview", params={"cron": "0 12 * *", "timezone": "UTC"})
    assert r.json()["firings"] == []
    assert r.json()["error"]
    anonymous = await browser(None)
    r = await anonymous.get("/ui/targets/preview", params={"groups": "core"})
    assert r.status_code == 303
    assert "/ui/login" in r.headers["location"]


async def test_prefill_from_a_link_and_time_zone_preference(
    browser: MakeClient, store: SqlStore
) -> None:
    await add_devices(store, 1)
    operator = await browser("operator")
    page = await operator.get("/ui/devices/edge-000")
    assert "/ui/jobs/new?devices=edge-000" in page.text
    form = (await operator.get("/ui/jobs/new?devices=edge-000")).text
    assert "edge-000</textarea>" in form
    r = await operator.post(
        "/ui/prefs/timezone",
        data={"csrf": csrf_of(form), "timezone": "Asia/Kolkata", "next": "/ui/jobs/new"},
    )
    assert r.status_code == 303
    assert r.headers["location"] == "/ui/jobs/new"
    form = (await operator.get("/ui/jobs/new")).text
    assert 'id="tz-name">Asia/Kolkata<' in form
    assert 'name="timezone" value="Asia/Kolkata"' in form
    r = await operator.post(
        "/ui/prefs/timezone", data={"csrf": csrf_of(form), "timezone": "Nowhere/Land"}
    )
    assert r.status_code == 400
    r = await operator.post(
        "/ui/prefs/timezone",
        data={"csrf": csrf_of(form), "timezone": "UTC", "next": "https://evil.example/"},
    )
    assert r.headers["location"] == "/ui/"


def test_draft_parsing() -> None:
    draft = JobDraft.from_form({"kind": "bogus", "when": "later", "devices": "a,b  a\nc"})
    assert (draft.kind, draft.when) == ("commands", "now")
    assert draft.targets().devices == ["a", "b", "c"]
    assert parse_variables("ntp = 192.0.2.1\n\nvrf=mgmt") == {"ntp": "192.0.2.1", "vrf": "mgmt"}
    assert parse_variables('{"n": [1, 2]}') == {"n": [1, 2]}
    with pytest.raises(Exception, match="key=value"):
        parse_variables("just text")

"""Safe changes in the dashboard over HTTP: a halted rollout on the job page and its
resume, the approval queue (a second admin; the submitter refused), change windows,
role limits and CSRF on every new form."""

from __future__ import annotations

from netfleet.jobs.gates import ChangePolicy
from netfleet.store import SqlStore
from tests.support.store import add_devices
from tests.support.web import MakeClient, csrf_of, finish_all, login, submit

ROLLOUT = {"canary": 1, "batches": ["50%"], "max_failures": 0}


async def test_a_halted_rollout_shows_batches_budget_and_resumes(
    browser: MakeClient, store: SqlStore
) -> None:
    await add_devices(store, 5)
    job = await submit(
        store,
        [f"edge-{i:03d}" for i in range(5)],
        commands=[],
        config=["ntp server 192.0.2.7"],
        options={"rollout": ROLLOUT},
    )
    await finish_all(store, fail=["edge-000"])  # the canary fails: the job halts
    assert (await store.jobs.get(job.id, tasks=False)).state == "halted"
    admin = await browser("admin")
    page = (await admin.get(f"/ui/jobs/{job.id}")).text
    assert 'id="batches"' in page
    assert page.count('data-state="halted"') == 1
    assert page.count('data-state="waiting"') == 2
    assert "<b>1</b> of 0 failures allowed" in page
    assert "budget of 0" in page  # the halt reason
    assert 'id="resume-form"' in page
    assert "badge st-halted" in page

    operator = await browser("operator")
    op_page = (await operator.get(f"/ui/jobs/{job.id}")).text
    assert 'id="resume-form"' not in op_page
    assert 'id="cancel-form"' in op_page  # cancelling is an operator's right, as in the API
    r = await operator.post(f"/ui/jobs/{job.id}/resume", data={"csrf": csrf_of(op_page)})
    assert r.status_code == 403
    assert "needs the admin role" in r.text
    r = await admin.post(f"/ui/jobs/{job.id}/resume", data={"csrf": "0" * 64})
    assert r.status_code == 403
    assert (await store.jobs.get(job.id, tasks=False)).state == "halted"

    r = await admin.post(f"/ui/jobs/{job.id}/resume", data={"csrf": csrf_of(page)})
    assert r.status_code == 303
    assert r.headers["location"] == f"/ui/jobs/{job.id}?notice=resumed"
    assert (await store.jobs.get(job.id, tasks=False)).state != "halted"
    await finish_all(store)
    done = await store.jobs.get(job.id, tasks=False)
    assert (done.state, done.counts.succeeded) == ("partial", 4)
    page = (await admin.get(f"/ui/jobs/{job.id}")).text
    assert page.count('data-state="done"') == 3
    assert "forgiven by a resume" in page
    assert 'id="resume-form"' not in page
    r = await admin.post(f"/ui/jobs/{job.id}/resume", data={"csrf": csrf_of(page)})
    assert r.status_code == 409


async def test_approval_by_a_second_admin(
    browser: MakeClient, store: SqlStore, tokens: dict[str, str]
) -> None:
    store.changes.policy = ChangePolicy(require_approval=True)
    await add_devices(store, 2)
    job = await submit(store, ["edge-000"], commands=[], config=["ntp server 192.0.2.9"])
    assert job.state == "awaiting_approval"
    own = await store.jobs.submit(
        (await store.jobs.get(job.id, tasks=False)).spec.model_copy(), submitted_by="t-admin"
    )
    admin = await browser("admin")
    queue = await admin.get("/ui/approvals")
    assert queue.status_code == 200
    assert f'id="approval-{own.id}"' in queue.text
    assert "badge st-awaiting_approval" in (await admin.get(f"/ui/jobs/{own.id}")).text
    csrf = csrf_of(queue.text)
    r = await admin.post(f"/ui/jobs/{own.id}/approve", data={"csrf": csrf})
    assert r.status_code == 403
    assert "t-admin submitted job" in r.text  # the refusal, on the queue page
    assert 'id="decision-error"' in r.text
    assert (await store.jobs.get(own.id, tasks=False)).state == "awaiting_approval"

    viewer = await browser("viewer")
    v_page = (await viewer.get("/ui/approvals")).text
    assert f'id="approve-{own.id}"' not in v_page
    operator = await browser("operator")
    o_page = (await operator.get("/ui/approvals")).text
    assert f'id="approve-{own.id}"' not in o_page
    for client, html in ((viewer, v_page), (operator, o_page)):
        for action in ("approve", "reject"):
            r = await client.post(f"/ui/jobs/{own.id}/{action}", data={"csrf": csrf_of(html)})
            assert r.status_code == 403
            assert "needs the admin role" in r.text

    second = await browser(None)
    _, token2 = await store.tokens.create("t-admin3", "admin")
    assert (await login(second, token2)).status_code == 303
    page2 = (await second.get("/ui/approvals")).text
    r = await second.post(f"/ui/jobs/{own.id}/approve", data={"csrf": "bad"})
    assert r.status_code == 403
    r = await second.post(f"/ui/jobs/{own.id}/approve", data={"csrf": csrf_of(page2)})
    assert (r.status_code, r.headers["location"]) == (303, "/ui/approvals?notice=approved")
    assert (await store.jobs.get(own.id, tasks=False)).state == "queued"
    gate = await store.changes.gate(own.id)
    assert (gate.decision, gate.decided_by) == ("approved", "t-admin3")

    r = await second.post(
        f"/ui/jobs/{job.id}/reject", data={"csrf": csrf_of(page2), "reason": "not tonight"}
    )
    assert r.status_code == 303
    assert (await store.jobs.get(job.id, tasks=False)).state == "cancelled"
    after = (await second.get("/ui/approvals")).text
    assert "No job is waiting for approval." in after
    audit = await store.audit.list(limit=50)
    decisions = {(e.actor, e.status, e.detail.get("decision")) for e in audit if e.detail}
    assert ("t-admin", 403, "approve") in decisions
    assert ("t-admin3", 200, "approve") in decisions
    assert ("t-admin3", 200, "reject") in decisions


async def test_change_windows_page_add_and_delete(browser: MakeClient, store: SqlStore) -> None:
    zone = "Europe/Berlin"
    admin = await browser("admin")
    page = (await admin.get("/ui/windows")).text
    assert "No change windows" in page
    csrf = csrf_of(page)
    form = {"csrf": csrf, "name": "weekend", "weekly": "sat 22:00-sun 06:00", "timezone": zone}
    r = await admin.post("/ui/windows", data=form)
    assert (r.status_code, r.headers["location"]) == (303, "/ui/windows?notice=window-saved")
    r = await admin.post(
        "/ui/windows",
        data={
            "csrf": csrf,
            "name": "freeze",
            "kind": "blackout",
            "cron": "0 0 24 12 *",
            "duration_minutes": "2880",
        },
    )
    assert r.status_code == 303
    r = await admin.post("/ui/windows", data={"csrf": csrf, "name": "bad", "weekly": "someday"})
    assert r.status_code == 422
    assert 'id="window-error"' in r.text
    assert 'value="someday"' in r.text  # the form keeps what was typed
    page = (await admin.get("/ui/windows")).text
    assert 'id="window-weekend"' in page
    assert '<tr id="window-freeze" class="blackout">' in page
    assert "badge st-blackout" in page
    windows = {w.spec.name for w in await store.changes.windows()}
    assert windows == {"weekend", "freeze"}
    nexts = page.split('data-field="next">')[1:]
    assert all(not n.startswith("never") for n in nexts)

    viewer = await browser("viewer")
    v_page = (await viewer.get("/ui/windows")).text
    assert 'id="window-weekend"' in v_page
    assert 'id="window-form"' not in v_page
    assert 'id="delete-weekend"' not in v_page
    r = await viewer.post("/ui/windows/weekend/delete", data={"csrf": csrf_of(v_page)})
    assert r.status_code == 403
    r = await viewer.post("/ui/windows", data={"csrf": csrf_of(v_page), "name": "x"})
    assert r.status_code == 403
    r = await admin.post("/ui/windows/weekend/delete", data={"csrf": "nope"})
    assert r.status_code == 403
    r = await admin.post("/ui/windows", data={**form, "csrf": "nope", "name": "other"})
    assert r.status_code == 403
    r = await admin.post("/ui/windows/weekend/delete", data={"csrf": csrf})
    assert r.status_code == 303
    assert {w.spec.name for w in await store.changes.windows()} == {"freeze"}
    r = await admin.post("/ui/windows/weekend/delete", data={"csrf": csrf})
    assert r.status_code == 404


async def test_nav_links_to_the_new_pages(browser: MakeClient) -> None:
    page = (await (await browser("viewer")).get("/ui/")).text
    for path in ("/ui/approvals", "/ui/windows", "/ui/notifications"):
        assert f'href="{path}"' in page

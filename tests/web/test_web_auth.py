"""Dashboard sign-in, the session cookie, CSRF and role checks on mutating forms."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from netfleet.core.settings import Settings
from netfleet.jobs.schedule import build_schedule
from netfleet.store import SqlStore
from tests.support.service import service_settings
from tests.support.store import add_devices
from tests.support.web import (
    BASE,
    MakeClient,
    build_app,
    csrf_of,
    login,
    nonce_of,
    submit,
)

PAGES = ["/ui/", "/ui/jobs", "/ui/jobs/1", "/ui/devices", "/ui/schedules", "/ui/workers"]


@pytest.mark.parametrize("path", PAGES)
async def test_pages_redirect_to_login_without_a_session(browser: MakeClient, path: str) -> None:
    client = await browser(None)
    r = await client.get(path)
    assert r.status_code == 303
    assert r.headers["location"].startswith("/ui/login")
    if path != "/ui/":
        assert "next=" + path in r.headers["location"]


async def test_login_sets_a_strict_httponly_session_cookie(
    browser: MakeClient, tokens: dict[str, str]
) -> None:
    client = await browser(None)
    r = await login(client, tokens["viewer"])
    assert r.status_code == 303
    assert r.headers["location"] == "/ui/"
    cookie = next(
        v for k, v in r.headers.multi_items() if k == "set-cookie" and "netfleet_session" in v
    )
    assert "HttpOnly" in cookie
    assert "samesite=strict" in cookie.lower()
    assert "Path=/ui" in cookie
    assert "Max-Age" not in cookie  # a session cookie
    page = await client.get("/ui/")
    assert page.status_code == 200
    assert "t-viewer" in page.text
    assert tokens["viewer"] not in page.text  # the token is never echoed into a page


async def test_login_follows_next_but_only_within_the_dashboard(
    browser: MakeClient, tokens: dict[str, str]
) -> None:
    for target, expected in (
        ("/ui/devices?group=core", "/ui/devices?group=core"),
        ("https://evil.example/", "/ui/"),
        ("//evil.example/ui/", "/ui/"),
    ):
        client = await browser(None)
        form = await client.get("/ui/login")
        r = await client.post(
            "/ui/login",
            data={"token": tokens["viewer"], "nonce": nonce_of(form.text), "next": target},
        )
        assert r.headers["location"] == expected


async def test_login_rejects_bad_and_revoked_tokens(
    browser: MakeClient, store: SqlStore, tokens: dict[str, str]
) -> None:
    client = await browser(None)
    r = await login(client, "nf_not-a-real-token")
    assert r.status_code == 401
    assert "invalid or revoked token" in r.text
    assert "netfleet_session" not in client.cookies
    await store.tokens.revoke("t-operator")
    r = await login(client, tokens["operator"])
    assert r.status_code == 401


async def test_login_form_needs_its_nonce_cookie(app: FastAPI, tokens: dict[str, str]) -> None:
    """A login posted from another site (no nonce cookie) does not sign the browser in."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as c:
        r = await c.post("/ui/login", data={"token": tokens["admin"], "nonce": "forged"})
        assert r.status_code == 401
        assert "expired" in r.text
        assert "netfleet_session" not in c.cookies


async def test_revoking_the_token_ends_the_dashboard_session(
    browser: MakeClient, store: SqlStore
) -> None:
    client = await browser("operator")
    assert (await client.get("/ui/jobs")).status_code == 200
    await store.tokens.revoke("t-operator")
    r = await client.get("/ui/jobs")
    assert r.status_code == 303
    assert r.headers["location"].startswith("/ui/login")


async def test_logout_clears_the_cookie_and_needs_csrf(browser: MakeClient) -> None:
    client = await browser("viewer")
    page = await client.get("/ui/")
    r = await client.post("/ui/logout", data={"csrf": "0" * 64})
    assert r.status_code == 403
    assert (await client.get("/ui/")).status_code == 200  # still signed in
    r = await client.post("/ui/logout", data={"csrf": csrf_of(page.text)})
    assert r.status_code == 303
    assert r.headers["location"] == "/ui/login"
    assert "netfleet_session" not in client.cookies
    assert (await client.get("/ui/")).status_code == 303


async def _running_job(store: SqlStore) -> int:
    await add_devices(store, 2)
    job = await submit(store, ["edge-000", "edge-001"])
    return job.id


async def test_cancel_needs_operator_role(browser: MakeClient, store: SqlStore) -> None:
    job_id = await _running_job(store)
    viewer = await browser("viewer")
    page = await viewer.get(f"/ui/jobs/{job_id}")
    assert "Cancel job" not in page.text  # no button for viewers
    r = await viewer.post(f"/ui/jobs/{job_id}/cancel", data={"csrf": csrf_of(page.text)})
    assert r.status_code == 403
    assert "needs the operator role" in r.text
    assert (await store.jobs.get(job_id, tasks=False)).state == "queued"
    refused = (await store.audit.list(limit=1))[0]
    assert (refused.actor, refused.status) == ("t-viewer", 403)

    operator = await browser("operator")
    page = await operator.get(f"/ui/jobs/{job_id}")
    assert "Cancel job" in page.text
    r = await operator.post(f"/ui/jobs/{job_id}/cancel", data={"csrf": csrf_of(page.text)})
    assert r.status_code == 303
    assert r.headers["location"] == f"/ui/jobs/{job_id}?notice=cancelled"
    assert (await store.jobs.get(job_id, tasks=False)).state == "cancelled"
    audit = await store.audit.list(limit=5)
    assert any(a.actor == "t-operator" and a.path.endswith("/cancel") for a in audit)


async def test_cancel_rejects_missing_wrong_or_foreign_csrf(
    browser: MakeClient, store: SqlStore
) -> None:
    job_id = await _running_job(store)
    admin = await browser("admin")
    other = await browser("operator")
    page = await admin.get(f"/ui/jobs/{job_id}")
    token = csrf_of(page.text)
    other_token = csrf_of((await other.get("/ui/")).text)
    assert token != other_token  # bound to the session
    for data, headers in (
        ({}, {}),
        ({"csrf": "f" * 64}, {}),
        ({"csrf": other_token}, {}),
        ({"csrf": token}, {"Origin": "https://evil.example"}),
    ):
        r = await admin.post(f"/ui/jobs/{job_id}/cancel", data=data, headers=headers)
        assert r.status_code == 403, data
        assert "another site" in r.text
    assert (await store.jobs.get(job_id, tasks=False)).state == "queued"
    r = await admin.post(
        f"/ui/jobs/{job_id}/cancel", data={"csrf": token}, headers={"Origin": BASE}
    )
    assert r.status_code == 303
    assert (await store.jobs.get(job_id, tasks=False)).state == "cancelled"


async def test_pause_and_resume_need_admin(browser: MakeClient, store: SqlStore) -> None:
    await add_devices(store, 1)
    spec = build_schedule(
        name="nightly-backup",
        job_template={"targets": {"devices": ["edge-000"]}, "commands": ["show run"]},
        cron="0 2 * * *",
        timezone="Europe/Berlin",
    )
    schedule = await store.schedules.create(spec)
    operator = await browser("operator")
    page = await operator.get("/ui/schedules")
    assert "nightly-backup" in page.text
    assert "Pause</button>" not in page.text
    r = await operator.post(f"/ui/schedules/{schedule.id}/pause", data={"csrf": csrf_of(page.text)})
    assert r.status_code == 403
    assert (await store.schedules.get(schedule.id)).enabled

    admin = await browser("admin")
    page = await admin.get("/ui/schedules")
    assert "Pause</button>" in page.text
    r = await admin.post(f"/ui/schedules/{schedule.id}/pause", data={"csrf": csrf_of(page.text)})
    assert r.status_code == 303
    assert not (await store.schedules.get(schedule.id)).enabled
    page = await admin.get("/ui/schedules?notice=paused")
    assert "Resume</button>" in page.text
    assert "Schedule paused." in page.text
    r = await admin.post(f"/ui/schedules/{schedule.id}/resume", data={"csrf": csrf_of(page.text)})
    assert r.status_code == 303
    assert (await store.schedules.get(schedule.id)).enabled
    r = await admin.post("/ui/schedules/9999/pause", data={"csrf": csrf_of(page.text)})
    assert r.status_code == 404


async def test_pages_send_security_headers(browser: MakeClient) -> None:
    for role, path in (("viewer", "/ui/"), (None, "/ui/login"), ("viewer", "/ui/jobs/999")):
        client = await browser(role)
        r = await client.get(path)
        csp = r.headers["content-security-policy"]
        assert "script-src 'self'" in csp
        assert "frame-ancestors 'none'" in csp
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["cache-control"] == "no-store"


async def test_without_auth_everyone_is_anonymous_admin(tmp_path: Path, store: SqlStore) -> None:
    settings: Settings = service_settings(tmp_path, auth=False)
    app = build_app(store, settings)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as c:
        r = await c.get("/ui/")
        assert r.status_code == 200
        assert "anonymous" in r.text
        assert "Log out" not in r.text
        r = await c.get("/ui/login")
        assert r.status_code == 303
        r = await c.get("/")
        assert r.headers["location"] == "/ui/"

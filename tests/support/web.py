"""Helpers for the dashboard tests: sign-in, seeding the store, finishing tasks."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import httpx
from fastapi import FastAPI

from netfleet.api import create_app
from netfleet.core.models import CommandResult
from netfleet.core.settings import Settings
from netfleet.jobs.model import parse_job_spec
from netfleet.store import SqlStore
from netfleet.store.records import JobRecord, TaskOutcome
from netfleet.web import mount_dashboard

BASE = "http://dash.test"
MakeClient = Callable[[str | None], Awaitable[httpx.AsyncClient]]
"""``await browser(role)``: a client signed in as ``role`` (``None``: not signed in)."""
EVIL = "<script>alert('pwned')</script>\"><img src=x onerror=alert(1)>"
"""A device output that would run script if the page did not escape it."""


def build_app(store: SqlStore, settings: Settings) -> FastAPI:
    """The service app with the dashboard (mounted by the factory, or here)."""
    app = create_app(store, settings, metrics_max_age_s=0.0)
    if not hasattr(app.state, "dashboard"):
        mount_dashboard(app)  # the store, settings and stop event of app.state.netfleet
    app.state.dashboard.overview_max_age_s = 0.0
    app.state.dashboard.stream_poll_s = 0.05
    return app


def nonce_of(html: str) -> str:
    found = re.search(r'name="nonce" value="([^"]+)"', html)
    assert found, "the login page has no nonce field"
    return found.group(1)


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', html)
    assert found, "the page has no CSRF field"
    return found.group(1)


async def login(client: httpx.AsyncClient, token: str) -> httpx.Response:
    page = await client.get("/ui/login")
    assert page.status_code == 200, page.text
    response = await client.post(
        "/ui/login", data={"token": token, "nonce": nonce_of(page.text), "next": "/ui/"}
    )
    return response


async def submit(store: SqlStore, devices: Sequence[str], **spec: Any) -> JobRecord:
    body: dict[str, Any] = {"targets": {"devices": list(devices)}, "commands": ["show version"]}
    body.update(spec)
    return await store.jobs.submit(parse_job_spec(body))


async def finish_all(
    store: SqlStore, *, output: str = "Cisco IOS Software", fail: Sequence[str] = ()
) -> int:
    """Claim every ready task as a fake worker and complete it (failing devices in ``fail``)."""
    done = 0
    while claimed := await store.claims.claim("test-worker", 100, lease_s=30):
        for task in claimed:
            failed = task.device.name in fail
            result = CommandResult(
                command=task.lines[0] if task.lines else "(template)",
                output=output,
                ok=not failed,
                error="timed out waiting for the prompt" if failed else None,
                error_kind="timeout" if failed else None,
                duration_ms=12.5,
            )
            outcome = TaskOutcome(
                status="failed" if failed else "succeeded",
                outputs=[result],
                error=result.error,
                error_kind=result.error_kind,
                retryable=False,
            )
            await store.completions.complete(task.task_id, "test-worker", task.attempt, outcome)
            done += 1
    return done

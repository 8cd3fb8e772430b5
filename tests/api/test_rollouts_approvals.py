"""Safe changes over the API on loopback, run for real against the simulator: a rollout
halted by a failing canary (later devices untouched) and resumed, approval by a second
admin, change windows on a controlled clock."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from netfleet.jobs.gates import ChangePolicy
from netfleet.store import SqlStore
from netfleet_sim import Simulator
from tests.support.api import SIM_ENABLE, SIM_PASSWORD, register_sim_fleet, wait_finished
from tests.support.loopback import serve_loopback as serve

Http = Callable[[str | None], Awaitable[httpx.AsyncClient]]


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with Simulator(
        devices=6, platforms=["cisco_ios"], password=SIM_PASSWORD, enable_secret=SIM_ENABLE
    ) as s:
        yield s


@pytest.fixture
async def http(app: FastAPI, tokens: dict[str, str]) -> AsyncIterator[Http]:
    """Clients of the app served on loopback; ``http(token)`` (None: the admin token)."""
    clients: list[httpx.AsyncClient] = []
    async with serve(app) as base:

        async def make(token: str | None) -> httpx.AsyncClient:
            c = httpx.AsyncClient(
                base_url=base, headers={"Authorization": f"Bearer {token or tokens['admin']}"}
            )
            clients.append(c)
            return c

        yield make
        for c in clients:
            await c.aclose()


async def wait_state(client: httpx.AsyncClient, job_id: int, state: str) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 30
    while True:
        body = (await client.get(f"/api/v1/jobs/{job_id}", params={"outputs": "false"})).json()
        if body["state"] == state:
            return dict(body)
        assert body["finished_at"] is None, f"job {job_id} finished {body['state']}"
        assert loop.time() < deadline, f"job {job_id} still {body['state']}"
        await asyncio.sleep(0.05)


async def test_a_failing_canary_halts_the_rollout_and_resume_finishes_it(
    http: Http, sim: Simulator, running: object
) -> None:
    admin = await http(None)
    names = sorted(await register_sim_fleet(admin, sim))
    canary = sim.device(names[0])
    canary.set_faults(deny=r"^ntp server")
    for d in sim.devices:
        d.reset_stats()
    r = await admin.post(
        "/api/v1/jobs",
        json={
            "name": "ntp",
            "targets": {"groups": ["lab"]},
            "config": ["ntp server 192.0.2.10"],
            "options": {"rollout": {"canary": 1, "batches": ["50%"], "max_failures": 0}},
        },
    )
    assert r.status_code == 201, r.text
    job_id = r.json()["id"]
    halted = await wait_state(admin, job_id, "halted")
    assert halted["counts"]["failed"] == 1
    assert halted["counts"]["queued"] == 5
    gate = (await admin.get(f"/api/v1/jobs/{job_id}/gate")).json()
    assert gate["state"] == "halted"
    assert gate["batches"] == [1, 3, 2]
    assert gate["batches_released"] == 1
    assert "budget of 0" in gate["reason"]
    # Later batches untouched: no login on any other device.
    assert canary.stats.logins >= 1
    assert [sim.device(n).stats.logins for n in names[1:]] == [0] * 5
    events = (await admin.get(f"/api/v1/jobs/{job_id}/events")).json()
    kinds = [e["kind"] for e in (events["items"] if isinstance(events, dict) else events)]
    assert "rollout.halted" in kinds

    canary.clear_faults()
    r = await admin.post(f"/api/v1/jobs/{job_id}/resume")
    assert r.status_code == 200, r.text
    done = await wait_finished(admin, job_id, timeout=60)
    assert done["state"] == "partial"
    assert done["counts"]["succeeded"] == 5
    assert all(sim.device(n).stats.logins >= 1 for n in names[1:])
    r = await admin.post(f"/api/v1/jobs/{job_id}/resume")
    assert r.status_code == 409


async def test_approval_needs_a_second_admin_and_is_audited(
    http: Http, store: SqlStore, sim: Simulator, running: object
) -> None:
    store.changes.policy = ChangePolicy(require_approval=True)
    _, token_a = await store.tokens.create("admin-a", "admin")
    _, token_b = await store.tokens.create("admin-b", "admin")
    a, b = await http(token_a), await http(token_b)
    names = await register_sim_fleet(a, sim)
    r = await a.post(
        "/api/v1/jobs", json={"targets": {"devices": names[:2]}, "config": ["ntp server 192.0.2.9"]}
    )
    assert r.status_code == 201, r.text
    job = r.json()
    assert job["state"] == "awaiting_approval"
    r = await a.post(f"/api/v1/jobs/{job['id']}/approve")
    assert r.status_code == 403
    assert "admin-a submitted job" in r.json()["detail"]
    viewer = await http((await store.tokens.create("viewer-x", "viewer"))[1])
    assert (await viewer.post(f"/api/v1/jobs/{job['id']}/approve")).status_code == 403
    assert (await viewer.get(f"/api/v1/jobs/{job['id']}/gate")).json()["submitted_by"] == "admin-a"

    r = await b.post(f"/api/v1/jobs/{job['id']}/approve")
    assert r.status_code == 200, r.text
    assert r.json()["decided_by"] == "admin-b"
    assert (await wait_finished(a, job["id"]))["state"] == "succeeded"
    audit = (await b.get("/api/v1/audit", params={"limit": 50})).json()["items"]
    approvals = [e for e in audit if e["path"].endswith("/approve")]
    assert {(e["actor"], e["status"]) for e in approvals} >= {("admin-a", 403), ("admin-b", 200)}

    r = await a.post(
        "/api/v1/jobs", json={"targets": {"devices": names[:1]}, "config": ["ntp server 192.0.2.8"]}
    )
    second = r.json()["id"]
    r = await b.post(f"/api/v1/jobs/{second}/reject", json={"reason": "wrong server"})
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "rejected"
    assert (await wait_finished(a, second))["state"] == "cancelled"


class Clock:
    def __init__(self, t: float) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


async def test_a_job_waits_for_its_window_and_runs_when_it_opens(
    http: Http, store: SqlStore, sim: Simulator, running: object
) -> None:
    clock = Clock(datetime(2026, 12, 2, 12, tzinfo=UTC).timestamp())  # a Wednesday noon
    store.changes.policy = ChangePolicy(clock=clock)
    admin = await http(None)
    names = await register_sim_fleet(admin, sim)
    r = await admin.put(
        "/api/v1/change-windows/weekend",
        json={"weekly": "sat 22:00-sun 06:00", "timezone": "Europe/Berlin"},
    )
    assert r.status_code == 201, r.text
    assert r.json()["next_opening"] is not None
    r = await admin.put("/api/v1/change-windows/bad", json={"weekly": "someday"})
    assert r.status_code == 422
    assert "expected 'DAY HH:MM-DAY HH:MM'" in r.json()["detail"]

    r = await admin.post(
        "/api/v1/jobs", json={"targets": {"devices": names[:2]}, "config": ["ntp server 192.0.2.7"]}
    )
    job = r.json()
    assert job["state"] == "awaiting_window"
    gate = (await admin.get(f"/api/v1/jobs/{job['id']}/gate")).json()
    assert gate["window"] == "weekend"
    assert gate["next_opening"].startswith("2026-12-05T21:00:00")  # 22:00 in Berlin
    verdict = (await admin.get("/api/v1/change-windows/verdict")).json()
    assert verdict["allowed"] is False
    assert "'weekend'" in verdict["reason"]

    # Emergency: admins only, audited, starts at once.
    operator = await http((await store.tokens.create("op-x", "operator"))[1])
    r = await operator.post(
        "/api/v1/jobs",
        json={
            "targets": {"devices": names[:1]},
            "commands": ["show clock"],
            "options": {"emergency": True},
        },
    )
    assert r.status_code == 403
    assert "options.emergency" in r.json()["detail"]
    r = await admin.post(
        "/api/v1/jobs",
        json={
            "targets": {"devices": names[2:3]},
            "config": ["ntp server 192.0.2.6"],
            "options": {"emergency": True},
        },
    )
    assert r.json()["state"] == "queued"
    urgent = await wait_finished(admin, r.json()["id"], timeout=30)
    assert urgent["state"] == "succeeded"
    audit = (await admin.get("/api/v1/audit", params={"limit": 20})).json()["items"]
    assert any(e["detail"].get("emergency") is True for e in audit if e["detail"])

    clock.t = datetime(2026, 12, 5, 21, 30, tzinfo=UTC).timestamp()
    assert (await wait_finished(admin, job["id"], timeout=30))["state"] == "succeeded"
    assert (await admin.delete("/api/v1/change-windows/weekend")).status_code == 204
    assert (await admin.get("/api/v1/change-windows/weekend")).status_code == 404

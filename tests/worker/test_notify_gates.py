"""Approval requests and halted rollouts reach a real webhook receiver on loopback:
the gate writes ``approval.requested`` / ``rollout.halted`` to the notification
outbox in its own transaction, and the worker's delivery loop sends them (signed) to
the rules that match, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from netfleet.core.settings_integrations import NotificationRuleSettings, NotificationSettings
from netfleet.integrations.notify_rules import rule_parts
from netfleet.jobs.gates import ChangePolicy
from netfleet.jobs.model import JobSpec
from netfleet.store import SqlStore
from netfleet.store.records import TaskOutcome
from netfleet.store.records_integrations import NewRule
from netfleet.worker.notify_loop import NotificationLoop
from tests.support.receivers import Receiver, webhook_receiver
from tests.support.store import add_devices
from tests.support.worker import eventually, open_test_store

SECRET = "whsec-gates-51d0c2"
FAST = NotificationSettings(backoff_seconds=0.05, max_backoff_seconds=0.2, poll_seconds=0.05)
BAD = TaskOutcome("failed", error="line rejected", error_kind="config_rejected")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[SqlStore]:
    fixture = "sqlite_url" if request.param == "sqlite" else "pg_url"
    st = await open_test_store(request.getfixturevalue(fixture))
    try:
        yield st
    finally:
        await st.close()


def config(*devices: str, **options: object) -> JobSpec:
    return JobSpec.model_validate(
        {"targets": {"devices": list(devices)}, "config": ["ntp server 192.0.2.1"],
         "options": options, "name": "ntp-change"}
    )  # fmt: skip


async def add_rule(store: SqlStore, url: str, events: list[str], **fields: Any) -> None:
    spec = NotificationRuleSettings.model_validate(
        {"name": f"ops-{len(events)}", "kind": "webhook", "url": url, "secret": SECRET,
         "events": events, **fields}
    )  # fmt: skip
    parts = rule_parts(spec)
    await store.notifications.create(
        NewRule(spec.name, "webhook", parts.match, parts.target, parts.secret)
    )


async def deliver_until(store: SqlStore, rx: Receiver, count: int) -> list[dict[str, Any]]:
    loop = NotificationLoop(store, FAST, owner="n1")
    stop = asyncio.Event()
    task = asyncio.create_task(loop.run(stop))

    async def arrived() -> bool:
        with rx.lock:
            return len(rx.effects) >= count

    try:
        await eventually(arrived, timeout=60, what=f"{count} webhook deliveries")
    finally:
        stop.set()
        await task
    with rx.lock:
        return list(rx.effects.values())


async def test_approval_requests_and_halts_are_delivered(store: SqlStore) -> None:
    await add_devices(store, "c1", "c2", "c3", groups=("core",))
    await add_devices(store, "e1", groups=("edge",))
    with webhook_receiver(SECRET) as rx:
        await add_rule(store, rx.url, ["approval.requested", "rollout.halted"], groups=["core"])
        store.changes.policy = ChangePolicy(require_approval=True)
        asked = await store.jobs.submit(config("c1"), submitted_by="admin-a")
        await store.jobs.submit(config("e1"), submitted_by="admin-a")  # not a core device
        assert asked.state == "awaiting_approval"
        (approval,) = await deliver_until(store, rx, 1)
        assert approval["type"] == "approval.requested"
        assert approval["job_id"] == asked.id
        assert approval["job_name"] == "ntp-change"
        assert approval["submitted_by"] == "admin-a"
        assert approval["groups"] == ["core"]
        assert approval["rule"] == "ops-2"

        store.changes.policy = ChangePolicy()
        rollout = {"canary": 1, "batches": ["100%"], "max_failures": 0}
        job = await store.jobs.submit(config("c2", "c3", rollout=rollout))
        (canary,) = await store.claims.claim("w1", 10, lease_s=30)
        await store.completions.complete(canary.task_id, "w1", canary.attempt, BAD)
        assert (await store.jobs.get(job.id, tasks=False)).state == "halted"
        bodies = await deliver_until(store, rx, 2)
        (halted,) = [b for b in bodies if b["type"] == "rollout.halted"]
        assert halted["job_id"] == job.id
        assert halted["failed"] == 1
        assert "budget" in halted["message"]
        assert all(rx.verified)


async def test_a_rule_for_other_events_gets_no_gate_event(store: SqlStore) -> None:
    await add_devices(store, "c1", groups=("core",))
    with webhook_receiver(SECRET) as rx:
        await add_rule(store, rx.url, ["job.failed"])
        await add_rule(store, rx.url, ["job.failed", "approval.requested"], groups=["edge"])
        store.changes.policy = ChangePolicy(require_approval=True)
        await store.jobs.submit(config("c1"), submitted_by="admin-a")
        assert (await store.notifications.backlog())["events_pending"] == 1
        loop = NotificationLoop(store, FAST, owner="n1")
        stop = asyncio.Event()
        task = asyncio.create_task(loop.run(stop))

        async def fanned() -> bool:
            return (await store.notifications.backlog())["events_pending"] == 0

        try:
            await eventually(fanned, timeout=60, what="the outbox fanned out")
        finally:
            stop.set()
            await task
        assert await store.notifications.deliveries() == []
        assert rx.received == []

"""Contract: approvals by a second admin and change windows on a controlled clock."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import pytest

from netfleet.core.errors import Conflict, Forbidden
from netfleet.jobs.gates import ChangePolicy
from netfleet.jobs.windows import WindowSpec
from netfleet.store import SqlStore
from netfleet.store.records import TaskOutcome
from netfleet.store.records_integrations import OutboxEvent, RuleRecord
from tests.support.store import add_devices, commands, config

OK = TaskOutcome("succeeded")
WED_NOON = datetime(2026, 12, 2, 12, 0, tzinfo=UTC).timestamp()
SAT_2300 = datetime(2026, 12, 5, 23, 0, tzinfo=UTC).timestamp()


class Clock:
    """A controlled clock for judging change windows (never the wall clock)."""

    def __init__(self, t: float) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


async def kinds(store: SqlStore, job_id: int) -> list[str]:
    return [e.kind for e in await store.jobs.events(job_id)]


async def test_a_config_job_waits_for_a_second_admin(store: SqlStore) -> None:
    store.changes.policy = ChangePolicy(require_approval=True)
    await add_devices(store, "r1", "r2")
    job = await store.jobs.submit(config("r1", "r2"), submitted_by="admin-a")
    assert job.state == "awaiting_approval"
    assert await store.claims.claim("w1", 10, lease_s=30) == []
    requested = [e for e in await store.jobs.events(job.id) if e.kind == "approval.requested"]
    assert requested[0].data["type"] == "approval.requested"
    assert requested[0].data["submitted_by"] == "admin-a"

    with pytest.raises(Forbidden, match=r"admin-a submitted job \d+; another admin must approve"):
        await store.changes.approve(job.id, "admin-a")
    assert await store.claims.claim("w1", 10, lease_s=30) == []

    assert await store.changes.approve(job.id, "admin-b") == "queued"
    gate = await store.changes.gate(job.id)
    assert (gate.decision, gate.decided_by, gate.state) == ("approved", "admin-b", "released")
    claimed = await store.claims.claim("w1", 10, lease_s=30)
    assert len(claimed) == 2
    with pytest.raises(Conflict, match="not awaiting approval"):
        await store.changes.approve(job.id, "admin-c")


async def test_rejecting_cancels_and_commands_need_no_approval(store: SqlStore) -> None:
    store.changes.policy = ChangePolicy(require_approval=True)
    await add_devices(store, "r1")
    job = await store.jobs.submit(config("r1"), submitted_by="admin-a")
    await store.changes.reject(job.id, "admin-b", "not during the audit")
    rejected = await store.jobs.get(job.id, tasks=False)
    assert rejected.state == "cancelled"
    gate = await store.changes.gate(job.id)
    assert gate.state == "rejected"
    assert gate.reason == "rejected by admin-b: not during the audit"
    assert "approval.rejected" in await kinds(store, job.id)

    shows = await store.jobs.submit(commands("r1"), submitted_by="admin-a")
    assert shows.state == "queued"
    dry = await store.jobs.submit(config("r1", dry_run=True), submitted_by="admin-a")
    assert dry.state == "queued"


async def test_approval_only_for_the_groups_of_the_policy(store: SqlStore) -> None:
    store.changes.policy = ChangePolicy(require_approval=True, approval_groups=("core",))
    await add_devices(store, "c1", groups=("core",))
    await add_devices(store, "e1", groups=("edge",))
    assert (await store.jobs.submit(config("e1"))).state == "queued"
    assert (await store.jobs.submit(config("c1", "e1"))).state == "awaiting_approval"


async def test_a_job_outside_the_window_waits_until_it_opens(store: SqlStore) -> None:
    clock = Clock(WED_NOON)
    store.changes.policy = ChangePolicy(clock=clock)
    await store.changes.put_window(
        WindowSpec(name="weekend", weekly="sat 22:00-sun 06:00", timezone="UTC")
    )
    await add_devices(store, "r1")
    job = await store.jobs.submit(config("r1"))
    assert job.state == "awaiting_window"
    gate = await store.changes.gate(job.id)
    assert gate.window == "weekend"
    assert "outside the allowed change window(s) 'weekend'" in gate.reason
    assert "next opening 2026-12-05 22:00:00 UTC" in gate.reason
    assert gate.next_opening == datetime(2026, 12, 5, 22, tzinfo=UTC).timestamp()
    assert await store.changes.release_open_windows() == []
    assert await store.claims.claim("w1", 10, lease_s=30) == []

    clock.t = SAT_2300
    assert await store.changes.release_open_windows() == [job.id]
    assert (await store.jobs.get(job.id, tasks=False)).state == "queued"
    assert len(await store.claims.claim("w1", 10, lease_s=30)) == 1
    assert await store.changes.release_open_windows() == []
    assert "window.opened" in await kinds(store, job.id)
    # Command jobs are never held by windows.
    clock.t = WED_NOON
    assert (await store.jobs.submit(commands("r1"))).state == "queued"


async def test_a_refusing_window_rejects_the_job_naming_the_next_opening(
    store: SqlStore,
) -> None:
    store.changes.policy = ChangePolicy(clock=Clock(WED_NOON))
    await store.changes.put_window(
        WindowSpec(name="nightly", cron="0 1 * * *", duration_minutes=120, policy="refuse")
    )
    await add_devices(store, "r1")
    with pytest.raises(Conflict) as err:
        await store.jobs.submit(config("r1"))
    assert "outside the allowed change window(s) 'nightly'" in err.value.message
    assert "next opening 2026-12-03 01:00:00 UTC" in err.value.message
    assert (await store.jobs.list()).items == ()
    waiting = await store.jobs.submit(config("r1", window_policy="wait"))
    assert waiting.state == "awaiting_window"
    urgent = await store.jobs.submit(config("r1", emergency=True))
    assert urgent.state == "queued"
    assert "window.override" in await kinds(store, urgent.id)


async def test_a_blackout_holds_even_inside_an_allowed_window(store: SqlStore) -> None:
    clock = Clock(datetime(2026, 12, 24, 1, 30, tzinfo=UTC).timestamp())
    store.changes.policy = ChangePolicy(clock=clock)
    nightly = WindowSpec(name="nightly", cron="0 1 * * *", duration_minutes=120)
    await store.changes.put_window(nightly)
    await store.changes.put_window(
        WindowSpec(
            name="freeze",
            kind="blackout",
            start=datetime(2026, 12, 20, tzinfo=UTC),
            end=datetime(2026, 12, 27, tzinfo=UTC),
        )
    )
    await add_devices(store, "r1")
    job = await store.jobs.submit(config("r1"))
    gate = await store.changes.gate(job.id)
    assert gate.window == "freeze"
    assert "next opening 2026-12-27 01:00:00 UTC" in gate.reason
    verdict = await store.changes.verdict()
    assert not verdict.allowed
    clock.t = datetime(2026, 12, 27, 1, 5, tzinfo=UTC).timestamp()
    assert await store.changes.release_open_windows() == [job.id]
    await store.changes.delete_window("freeze")
    assert [w.spec.name for w in await store.changes.windows()] == ["nightly"]


async def test_a_rollout_waits_at_a_batch_boundary_when_the_window_closed(
    store: SqlStore,
) -> None:
    clock = Clock(SAT_2300)
    store.changes.policy = ChangePolicy(clock=clock)
    await store.changes.put_window(WindowSpec(name="weekend", weekly="sat 22:00-sun 06:00"))
    await add_devices(store, 4)
    names = [f"edge-{i:03d}" for i in range(4)]
    job = await store.jobs.submit(config(*names, rollout={"batches": [2]}))
    first = await store.claims.claim("w1", 10, lease_s=30)
    assert len(first) == 2
    clock.t = WED_NOON + 7 * 86400  # the next Wednesday: the window has closed
    for t in first:
        await store.completions.complete(t.task_id, "w1", t.attempt, OK)
    assert (await store.jobs.get(job.id, tasks=False)).state == "awaiting_window"
    assert await store.claims.claim("w1", 10, lease_s=30) == []
    clock.t = SAT_2300 + 7 * 86400
    assert await store.changes.release_open_windows() == [job.id]
    assert len(await store.claims.claim("w1", 10, lease_s=30)) == 2


async def test_scoped_windows_govern_only_the_jobs_touching_their_targets(
    store: SqlStore,
) -> None:
    clock = Clock(WED_NOON)
    store.changes.policy = ChangePolicy(clock=clock)
    await store.changes.put_window(
        WindowSpec(name="core-weekend", weekly="sat 22:00-sun 06:00", groups=("core",))
    )
    await store.changes.put_window(
        WindowSpec(name="lab-freeze", kind="blackout", weekly="00:00-23:59", devices=("lab-*",))
    )
    await add_devices(store, "c1", groups=("core",))
    await add_devices(store, "e1", groups=("edge",))
    await add_devices(store, "lab-1")
    assert (await store.jobs.submit(config("e1"))).state == "queued"
    core = await store.jobs.submit(config("c1", "e1"))
    assert core.state == "awaiting_window"
    assert (await store.changes.gate(core.id)).window == "core-weekend"
    lab = await store.jobs.submit(config("lab-1"))
    assert lab.state == "awaiting_window"
    assert "inside blackout window 'lab-freeze'" in (await store.changes.gate(lab.id)).reason
    # The store-wide verdict judges the unscoped windows only: none here.
    assert (await store.changes.verdict()).allowed
    clock.t = SAT_2300
    assert await store.changes.release_open_windows() == [core.id]


async def test_a_berlin_weekend_window_closes_at_six_local_on_the_dst_night(
    store: SqlStore,
) -> None:
    # 2026-03-29: Berlin goes from 02:00 CET to 03:00 CEST; 06:00 CEST is 04:00 UTC.
    clock = Clock(datetime(2026, 3, 29, 4, 1, tzinfo=UTC).timestamp())
    store.changes.policy = ChangePolicy(clock=clock)
    await store.changes.put_window(
        WindowSpec(name="weekend", weekly="sat 22:00-sun 06:00", timezone="Europe/Berlin")
    )
    await add_devices(store, "r1")
    late = await store.jobs.submit(config("r1"))
    assert late.state == "awaiting_window"
    gate = await store.changes.gate(late.id)
    assert gate.next_opening == datetime(2026, 4, 4, 20, tzinfo=UTC).timestamp()
    clock.t = datetime(2026, 3, 29, 3, 59, tzinfo=UTC).timestamp()
    assert await store.changes.release_open_windows() == [late.id]


async def test_approval_requests_and_halts_reach_the_notification_outbox(
    store: SqlStore,
) -> None:
    store.changes.policy = ChangePolicy(require_approval=True)
    await add_devices(store, "c1", groups=("core",))
    job = await store.jobs.submit(config("c1"), submitted_by="admin-a")
    seen: list[dict[str, Any]] = []

    def match(rules: Sequence[RuleRecord], event: OutboxEvent) -> list[int]:
        seen.append(event.payload)
        return []

    await store.notifications.fan_out(match)
    (payload,) = seen
    assert payload["type"] == "approval.requested"
    assert payload["job_id"] == job.id
    assert payload["groups"] == ["core"]
    assert payload["devices"] == ["c1"]

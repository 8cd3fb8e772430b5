"""Contract: ``store.pages`` — what the dashboard reads besides the other families."""

from __future__ import annotations

import dataclasses

from netfleet.core.models import CommandResult
from netfleet.jobs.model import Targets
from netfleet.store import SqlStore
from netfleet.store.records import TaskOutcome
from tests.support.store import add_devices, commands

OK = TaskOutcome("succeeded", [CommandResult("show version", "Cisco IOS")])
KEEP = dataclasses.replace(OK, keep_session=True)
FAILED = TaskOutcome(
    "failed",
    [CommandResult("show version", ok=False, error="timed out", error_kind="timeout")],
    error="timed out",
    error_kind="timeout",
    retryable=False,
)


async def test_target_preview_resolves_like_a_job(store: SqlStore) -> None:
    await add_devices(store, 5)
    found = await store.pages.preview_targets(Targets(groups=["core"], filter="name=*-00[13]"))
    assert (found.count, found.names, found.error) == (2, ("edge-001", "edge-003"), None)
    few = await store.pages.preview_targets(Targets(groups=["core"]), limit=2)
    assert (few.count, few.names) == (5, ("edge-000", "edge-001"))
    bad = await store.pages.preview_targets(Targets(devices=["edge-000", "ghost"]))
    assert bad.count == 0
    assert bad.error == "targets.devices: unknown device(s) 'ghost'"
    none = await store.pages.preview_targets(Targets(filter="platform=juniper_junos"))
    assert none.error == "targets: no device matches"
    assert await store.pages.preview_targets(Targets()) == type(none)(0, (), None)


async def test_device_sessions_count_running_and_idle_per_worker(store: SqlStore) -> None:
    await add_devices(store, "r1", max_sessions=3)
    device = await store.devices.get("r1")
    assert await store.pages.device_sessions(device.id) == []
    await store.jobs.submit(commands("r1"))
    await store.jobs.submit(commands("r1"))
    (first,) = await store.claims.claim("w-a", 1, lease_s=30)
    await store.completions.complete(first.task_id, "w-a", first.attempt, KEEP)
    (second,) = await store.claims.claim("w-b", 1, lease_s=30)
    sessions = await store.pages.device_sessions(device.id)
    assert [(s.worker_id, s.running, s.idle, s.total) for s in sessions] == [
        ("w-a", 0, 1, 1),
        ("w-b", 1, 0, 1),
    ]
    await store.completions.complete(second.task_id, "w-b", second.attempt, OK)
    await store.holds.release("w-a")
    assert await store.pages.device_sessions(device.id) == []


async def test_overview_counts_agree_with_the_queue_snapshot(store: SqlStore) -> None:
    await add_devices(store, 4)
    await store.jobs.submit(commands("edge-000", "edge-001", "edge-002"))
    await store.jobs.submit(commands("edge-003"))
    claimed = await store.claims.claim("w-a", 3, lease_s=30)
    for n, task in enumerate(claimed[:2]):
        outcome = FAILED if n else OK
        await store.completions.complete(task.task_id, "w-a", task.attempt, outcome)
    fast = await store.pages.overview()
    full = await store.metrics.queue_snapshot()
    assert fast.jobs == full.jobs
    assert fast.tasks == full.tasks
    assert fast.queue_depth == full.queue_depth == 1
    assert fast.errors == full.errors == {"timeout": 1}
    assert fast.duration_count == full.duration_count == 2
    assert abs(fast.duration_sum - full.duration_sum) < 1e-6
    assert fast.sample == 4

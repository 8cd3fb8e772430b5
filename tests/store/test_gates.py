"""Contract: staged rollouts in the store — batch release, halt, resume, durability,
and no double release when several stores complete one job's tasks at once."""

from __future__ import annotations

import asyncio

import pytest

from netfleet.core.errors import Conflict
from netfleet.store import SqlStore, open_store
from netfleet.store.records import ClaimedTask, TaskOutcome
from tests.support.store import KEY, add_devices, config

OK = TaskOutcome("succeeded")
BAD = TaskOutcome("failed", error="line rejected", error_kind="config_rejected")
NAMES = [f"edge-{i:03d}" for i in range(10)]


async def finish(store: SqlStore, tasks: list[ClaimedTask], outcome: TaskOutcome = OK) -> None:
    for t in tasks:
        await store.completions.complete(t.task_id, "w1", t.attempt, outcome)


async def names(tasks: list[ClaimedTask]) -> list[str]:
    return sorted(t.device.name for t in tasks)


async def events(store: SqlStore, job_id: int, kind: str) -> list[dict[str, object]]:
    return [e.data for e in await store.jobs.events(job_id) if e.kind == kind]


async def test_batches_are_released_one_after_the_other(store: SqlStore) -> None:
    await add_devices(store, 10)
    rollout = {"canary": 1, "batches": ["30%"], "max_failures": 0}
    job = await store.jobs.submit(config(*NAMES, rollout=rollout))
    gate = await store.changes.gate(job.id)
    assert gate.plan == (1, 3, 3, 3)
    assert (gate.state, gate.batch, gate.released) == ("rolling", 1, 1)

    canary = await store.claims.claim("w1", 100, lease_s=30)
    assert await names(canary) == ["edge-000"]
    await finish(store, canary)
    second = await store.claims.claim("w1", 100, lease_s=30)
    assert await names(second) == ["edge-001", "edge-002", "edge-003"]
    assert await store.claims.claim("w1", 100, lease_s=30) == []
    await finish(store, second)
    for expected in (NAMES[4:7], NAMES[7:10]):
        batch = await store.claims.claim("w1", 100, lease_s=30)
        assert await names(batch) == expected
        await finish(store, batch)
    done = await store.jobs.get(job.id, tasks=False)
    assert done.state == "succeeded"
    assert (await store.changes.gate(job.id)).state == "done"
    batches = await events(store, job.id, "rollout.batch")
    assert [b["batch"] for b in batches] == [1, 2, 3, 4]


async def test_a_failure_over_budget_halts_and_holds_back_unclaimed_tasks(
    store: SqlStore,
) -> None:
    await add_devices(store, 10)
    rollout = {"canary": 1, "batches": [4], "max_failures": 0}
    spec = config(*NAMES, rollout=rollout).model_copy(update={"name": "ntp-change"})
    job = await store.jobs.submit(spec)
    await finish(store, await store.claims.claim("w1", 100, lease_s=30))
    # Batch 2 (edge-001..004): one task claimed and failed, the rest not yet claimed.
    first = await store.claims.claim("w1", 1, lease_s=30)
    await finish(store, first, BAD)
    job_now = await store.jobs.get(job.id, tasks=False)
    assert job_now.state == "halted"
    assert job_now.finished_at is None
    gate = await store.changes.gate(job.id)
    assert gate.state == "halted"
    assert "1 task(s) failed, more than the rollout's budget of 0" in gate.reason
    assert "5 task(s) not released" in gate.reason
    assert await store.claims.claim("w1", 100, lease_s=30) == []
    (halted,) = await events(store, job.id, "rollout.halted")
    assert halted["type"] == "rollout.halted"
    assert halted["job_id"] == job.id
    assert halted["job_name"] == "ntp-change"
    assert halted["failed"] == 1
    assert halted["budget"] == 0
    assert "budget" in str(halted["message"])

    with pytest.raises(Conflict, match="is halted, not awaiting approval"):
        await store.changes.approve(job.id, "admin-b")

    assert await store.changes.resume(job.id, "admin-b") == "running"
    rest_of_batch = await store.claims.claim("w1", 100, lease_s=30)
    assert await names(rest_of_batch) == NAMES[2:5]
    await finish(store, rest_of_batch)
    for _ in range(2):
        await finish(store, await store.claims.claim("w1", 100, lease_s=30))
    final = await store.jobs.get(job.id, tasks=False)
    assert final.state == "partial"
    assert (final.counts.succeeded, final.counts.failed) == (9, 1)
    resumed = await events(store, job.id, "rollout.resumed")
    assert resumed[0]["actor"] == "admin-b"


async def test_running_tasks_finish_under_a_halt_and_the_state_stays(store: SqlStore) -> None:
    await add_devices(store, 6)
    rollout = {"batches": [3], "max_failures": "20%"}  # 20 % of 6 = 1 failure tolerated
    job = await store.jobs.submit(config(*NAMES[:6], rollout=rollout))
    batch = await store.claims.claim("w1", 100, lease_s=30)
    await finish(store, batch[:1], BAD)
    assert (await store.jobs.get(job.id, tasks=False)).state == "running"
    await finish(store, batch[1:2], BAD)
    assert (await store.jobs.get(job.id, tasks=False)).state == "halted"
    await finish(store, batch[2:])
    after = await store.jobs.get(job.id, tasks=False)
    assert after.state == "halted"
    assert after.counts.running == 0
    await store.jobs.cancel(job.id)
    cancelled = await store.jobs.get(job.id, tasks=False)
    assert cancelled.state == "partial"
    assert cancelled.counts.cancelled == 3
    assert (await store.changes.gate(job.id)).state == "done"


async def test_a_halted_rollout_survives_a_restart(store: SqlStore, store_url: str) -> None:
    await add_devices(store, 4)
    job = await store.jobs.submit(config(*NAMES[:4], rollout={"canary": 1, "batches": [3]}))
    await finish(store, await store.claims.claim("w1", 100, lease_s=30), BAD)
    await store.close()
    again = await open_store(store_url, secret_key=KEY)
    try:
        assert (await again.jobs.get(job.id, tasks=False)).state == "halted"
        assert await again.claims.claim("w2", 100, lease_s=30) == []
        await again.changes.resume(job.id, "admin-a")
        batch = await again.claims.claim("w2", 100, lease_s=30)
        assert await names(batch) == NAMES[1:4]
    finally:
        await again.close()


async def test_concurrent_completions_release_each_batch_once(
    store: SqlStore, other_store: SqlStore
) -> None:
    """Two stores (two workers) finish the last tasks of a batch at the same moment."""
    await add_devices(store, 40)
    every = [f"edge-{i:03d}" for i in range(40)]
    job = await store.jobs.submit(config(*every, rollout={"batches": [8], "pause_s": 0}))
    for _ in range(5):
        batch = await store.claims.claim("w1", 100, lease_s=30)
        assert len(batch) == 8
        half = len(batch) // 2

        async def complete(s: SqlStore, tasks: list[ClaimedTask]) -> None:
            await s.completions.complete_many("w1", [(t.task_id, t.attempt, OK) for t in tasks])

        await asyncio.gather(complete(store, batch[:half]), complete(other_store, batch[half:]))
    final = await store.jobs.get(job.id, tasks=False)
    assert final.state == "succeeded"
    assert final.counts.succeeded == 40
    gate = await store.changes.gate(job.id)
    assert (gate.batch, gate.released) == (5, 40)
    assert len(await events(store, job.id, "rollout.batch")) == 5


async def test_a_paused_rollout_releases_the_next_batch_later(store: SqlStore) -> None:
    await add_devices(store, 2)
    job = await store.jobs.submit(config(*NAMES[:2], rollout={"batches": [1], "pause_s": 3600}))
    await finish(store, await store.claims.claim("w1", 100, lease_s=30))
    assert await store.claims.claim("w1", 100, lease_s=30) == []
    (task,) = [t for t in (await store.jobs.get(job.id)).tasks or () if t.state == "queued"]
    now = await store.now()
    assert now + 3500 < task.run_at < now + 3700

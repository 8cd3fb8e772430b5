"""Contract: claims, device slots, leases, fencing, reaper, retries, deadlines."""

from __future__ import annotations

import asyncio

import pytest

from netfleet.core.errors import LeaseLost
from netfleet.core.models import CommandResult
from netfleet.store import SqlStore
from netfleet.store.records import TaskOutcome
from tests.support.store import add_devices, commands, config

OK = TaskOutcome("succeeded", [CommandResult("show version", "Cisco IOS")])


async def test_claim_respects_max_sessions(store: SqlStore) -> None:
    await add_devices(store, "r1", max_sessions=2)
    for _ in range(5):
        await store.jobs.submit(commands("r1"))
    first = await store.claims.claim("w1", 10, lease_s=30)
    assert len(first) == 2
    assert await store.claims.claim("w2", 10, lease_s=30) == []
    await store.completions.complete(first[0].task_id, "w1", first[0].attempt, OK)
    again = await store.claims.claim("w2", 10, lease_s=30)
    assert len(again) == 1


async def test_claimed_task_carries_what_the_worker_needs(store: SqlStore) -> None:
    await add_devices(store, "r1")
    job = await store.jobs.submit(commands("r1", task_deadline_s=60, priority=3))
    (task,) = await store.claims.claim("w1", 5, lease_s=30)
    assert task.job_id == job.id
    assert task.attempt == 1
    assert task.max_attempts == 3
    assert task.device.name == "r1"
    assert task.device.credentials[0].password == "pw-r1"
    assert task.lines == ["show version"]
    assert task.spec.options.priority == 3
    assert task.deadline_at is not None
    assert task.deadline_at > task.lease_expires_at


async def test_exclusive_task_runs_alone(store: SqlStore) -> None:
    await add_devices(store, "r1", max_sessions=3)
    await store.jobs.submit(commands("r1"))
    cfg_job = await store.jobs.submit(config("r1"))
    await store.jobs.submit(commands("r1"))
    running = await store.claims.claim("w1", 1, lease_s=30)
    assert [t.job_id for t in running] != [cfg_job.id]
    # The config task needs the device to itself: not claimable while a command runs.
    rest = await store.claims.claim("w1", 10, lease_s=30)
    assert all(t.job_id != cfg_job.id for t in rest)
    for t in running + rest:
        await store.completions.complete(t.task_id, "w1", t.attempt, OK)
    excl = await store.claims.claim("w1", 10, lease_s=30)
    assert [t.job_id for t in excl] == [cfg_job.id]
    assert excl[0].exclusive
    await store.jobs.submit(commands("r1"))
    assert await store.claims.claim("w1", 10, lease_s=30) == []


async def test_busy_device_does_not_stall_the_queue(store: SqlStore) -> None:
    await add_devices(store, "busy", max_sessions=1)
    await add_devices(store, "idle")
    for _ in range(40):
        await store.jobs.submit(commands("busy", priority=10))
    late = await store.jobs.submit(commands("idle", priority=0))
    got = await store.claims.claim("w1", 5, lease_s=30)
    assert sorted(t.device.name for t in got) == ["busy", "idle"]
    assert late.id in {t.job_id for t in got}


async def test_priority_then_age(store: SqlStore) -> None:
    await add_devices(store, "r1", "r2", "r3", max_sessions=5)
    low = await store.jobs.submit(commands("r1", priority=0))
    high = await store.jobs.submit(commands("r2", priority=5))
    mid = await store.jobs.submit(commands("r3", priority=1))
    got = [(await store.claims.claim("w", 1, lease_s=30))[0].job_id for _ in range(3)]
    assert got == [high.id, mid.id, low.id]


async def test_run_at_in_the_future_is_not_claimed(store: SqlStore) -> None:
    await add_devices(store, "r1")
    await store.jobs.submit(commands("r1", run_at="2999-01-01T00:00:00Z"))
    assert await store.claims.claim("w", 5, lease_s=30) == []


async def test_affinity_prefers_warm_devices(store: SqlStore) -> None:
    await add_devices(store, "cold", "warm")
    await store.jobs.submit(commands("cold"))
    wjob = await store.jobs.submit(commands("warm"))
    warm_id = (await store.jobs.get(wjob.id)).tasks[0].device_id  # type: ignore[index]
    assert warm_id is not None
    (task,) = await store.claims.claim("w", 1, lease_s=30, warm_devices={warm_id})
    assert task.job_id == wjob.id


async def test_completion_is_fenced_by_worker_and_attempt(store: SqlStore) -> None:
    await add_devices(store, "r1")
    await store.jobs.submit(commands("r1"))
    (task,) = await store.claims.claim("w1", 1, lease_s=-1)  # lease already expired
    with pytest.raises(LeaseLost):
        await store.completions.complete(task.task_id, "intruder", task.attempt, OK)
    reaped = await store.claims.reap()
    assert reaped.requeued == (task.task_id,)
    (again,) = await store.claims.claim("w2", 1, lease_s=30)
    assert again.task_id == task.task_id
    assert again.attempt == 2
    with pytest.raises(LeaseLost, match="lease lost"):
        await store.completions.complete(task.task_id, "w1", task.attempt, OK)
    done = await store.completions.complete(again.task_id, "w2", again.attempt, OK)
    assert done.state == "succeeded"
    assert done.job_state == "succeeded"
    with pytest.raises(LeaseLost):
        await store.completions.complete(again.task_id, "w2", again.attempt, OK)


async def test_reaper_frees_slots_and_fails_exhausted_or_config(store: SqlStore) -> None:
    await add_devices(store, "r1", "r2", max_sessions=1)
    cmd = await store.jobs.submit(commands("r1", max_attempts=1))
    cfg = await store.jobs.submit(config("r2"))
    claimed = await store.claims.claim("w1", 5, lease_s=-1)
    assert len(claimed) == 2
    cfg_claim = next(t for t in claimed if t.kind == "config")
    await store.completions.mark_config(
        cfg_claim.task_id, "w1", cfg_claim.attempt, first_line="interface Loopback7"
    )
    result = await store.claims.reap()
    assert sorted(result.failed) == sorted(t.task_id for t in claimed)
    cfg_task = (await store.jobs.get(cfg.id)).tasks[0]  # type: ignore[index]
    assert cfg_task.state == "failed"
    assert cfg_task.error_kind == "config_state_unknown"
    assert cfg_task.error is not None
    assert "check the device" in cfg_task.error
    assert (await store.jobs.get(cmd.id)).state == "failed"
    # Slots were given back in the same transaction: both devices are claimable again.
    await store.jobs.submit(commands("r1", "r2"))
    assert len(await store.claims.claim("w2", 5, lease_s=30)) == 2


async def test_heartbeat_renews_and_reports_lost_and_cancelled(store: SqlStore) -> None:
    await add_devices(store, "r1", "r2")
    job = await store.jobs.submit(commands("r1", "r2"))
    a, b = await store.claims.claim("w1", 5, lease_s=30)
    await store.jobs.cancel(job.id)
    beat = await store.claims.heartbeat("w1", [a.task_id, b.task_id, 999_999], lease_s=30)
    assert beat.renewed == {a.task_id, b.task_id}
    assert beat.cancel_requested == {a.task_id, b.task_id}
    assert beat.lost == {999_999}
    assert (await store.claims.heartbeat("w2", [a.task_id], lease_s=30)).lost == {a.task_id}
    await store.completions.complete(
        a.task_id, "w1", a.attempt, TaskOutcome("cancelled", error="stopped")
    )
    await store.completions.complete(b.task_id, "w1", b.attempt, OK)
    final = await store.jobs.get(job.id)
    assert final.state == "partial"
    assert final.finished_at is not None


async def test_retry_with_backoff_and_outputs_per_attempt(store: SqlStore) -> None:
    await add_devices(store, "r1")
    job = await store.jobs.submit(commands("r1", backoff_base_s=0, backoff_max_s=0))
    (t1,) = await store.claims.claim("w", 1, lease_s=30)
    failed = TaskOutcome(
        "failed",
        [CommandResult("show version", "", ok=False, error="timed out")],
        error="timed out",
        error_kind="command_timeout",
        transient=True,
    )
    done = await store.completions.complete(t1.task_id, "w", t1.attempt, failed)
    assert done.state == "retrying"
    assert done.next_run_at is not None
    assert (await store.jobs.get(job.id)).state == "running"
    (t2,) = await store.claims.claim("w", 1, lease_s=30)
    assert (t2.task_id, t2.attempt) == (t1.task_id, 2)
    await store.completions.complete(t2.task_id, "w", t2.attempt, OK)
    task = (await store.jobs.get(job.id)).tasks[0]  # type: ignore[index]
    assert task.state == "succeeded"
    assert task.attempt == 2
    assert [(o.attempt, o.ok) for o in task.outputs] == [(1, False), (2, True)]
    assert task.last_outputs()[0].output == "Cisco IOS"
    kinds = [e.kind for e in await store.jobs.events(job.id)]
    assert kinds.count("claimed") == 2
    assert "retry_scheduled" in kinds
    assert kinds[-1] == "succeeded"


async def test_backoff_delays_the_retry(store: SqlStore) -> None:
    await add_devices(store, "r1")
    await store.jobs.submit(commands("r1", backoff_base_s=600, backoff_max_s=600))
    (t1,) = await store.claims.claim("w", 1, lease_s=30)
    failed = TaskOutcome("failed", error="refused", transient=True)
    done = await store.completions.complete(t1.task_id, "w", t1.attempt, failed)
    assert done.next_run_at is not None
    assert done.next_run_at >= await store.now() + 250
    assert await store.claims.claim("w", 1, lease_s=30) == []


@pytest.mark.parametrize(
    ("retry_on", "transient", "expected"),
    [("transient", False, "failed"), ("never", True, "failed"), ("any", False, "retrying")],
)
async def test_retry_policy(store: SqlStore, retry_on: str, transient: bool, expected: str) -> None:
    await add_devices(store, "r1")
    await store.jobs.submit(commands("r1", retry_on=retry_on))
    (t,) = await store.claims.claim("w", 1, lease_s=30)
    outcome = TaskOutcome("failed", error="bad", transient=transient)
    assert (await store.completions.complete(t.task_id, "w", t.attempt, outcome)).state == expected


async def test_deadline_watchdog_fails_overdue_tasks(store: SqlStore) -> None:
    await add_devices(store, "r1", max_sessions=1)
    job = await store.jobs.submit(commands("r1", task_deadline_s=0.001))
    (t,) = await store.claims.claim("w", 1, lease_s=300)
    await asyncio.sleep(0.02)
    assert await store.claims.expire_deadlines(grace_s=0) == [t.task_id]
    assert (await store.jobs.get(job.id)).state == "failed"
    assert (await store.claims.heartbeat("w", [t.task_id], lease_s=30)).lost == {t.task_id}
    await store.jobs.submit(commands("r1"))
    assert len(await store.claims.claim("w", 1, lease_s=30)) == 1


async def test_claims_from_two_stores_never_share_a_task(
    store: SqlStore, other_store: SqlStore
) -> None:
    names = [f"r{i}" for i in range(10)]
    await add_devices(store, *names, max_sessions=3)
    for _ in range(3):
        await store.jobs.submit(commands(*names))
    a, b = await asyncio.gather(
        store.claims.claim("a", 20, lease_s=30), other_store.claims.claim("b", 20, lease_s=30)
    )
    ids = [t.task_id for t in a + b]
    # SKIP LOCKED may make one claimer pass over rows the other then leaves: claim the rest.
    while more := await store.claims.claim("a", 20, lease_s=30):
        ids += [t.task_id for t in more]
    assert len(ids) == len(set(ids)) == 30


async def test_listen_wakes_on_submit(store: SqlStore) -> None:
    await add_devices(store, "r1")
    listener = store.listen()
    first = asyncio.ensure_future(anext(listener))
    if store.dialect == "postgresql":
        await asyncio.wait_for(first, 10)  # the (re)connect wake-up
        first = asyncio.ensure_future(anext(listener))
    await asyncio.sleep(0.05)
    await store.jobs.submit(commands("r1"))
    await asyncio.wait_for(first, 10)
    await listener.aclose()  # type: ignore[attr-defined]


async def test_lowering_max_sessions_applies_as_sessions_end(store: SqlStore) -> None:
    await add_devices(store, "r1", max_sessions=3)
    for _ in range(6):
        await store.jobs.submit(commands("r1"))
    running = await store.claims.claim("w", 10, lease_s=30)
    assert len(running) == 3
    await add_devices(store, "r1", max_sessions=1)
    for task in running:
        await store.completions.complete(task.task_id, "w", task.attempt, OK)
    assert len(await store.claims.claim("w", 10, lease_s=30)) == 1


async def test_outputs_with_nul_characters_are_stored(store: SqlStore) -> None:
    await add_devices(store, "r1")
    job = await store.jobs.submit(commands("r1"))
    (t,) = await store.claims.claim("w", 1, lease_s=30)
    outcome = TaskOutcome("succeeded", [CommandResult("show version", "a\x00b")])
    await store.completions.complete(t.task_id, "w", t.attempt, outcome)
    task = (await store.jobs.get(job.id)).tasks[0]  # type: ignore[index]
    assert task.outputs[0].output == "a\ufffdb"

"""The worker runtime in-process (real SQLite store, real SSH to the simulator):
deadlines, the deadline watchdog, draining on shutdown, events and stats."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from netfleet.core.settings import ConnectSettings, PoolSettings, WorkerSettings
from netfleet.pool import device_pool
from netfleet.store import SqlStore
from netfleet.store.records import ClaimedTask, TaskOutcome
from netfleet.worker import Worker, WorkerConfig
from netfleet.worker.executor import AttemptReport, PoolExecutor
from netfleet_sim import Simulator
from tests.support.worker import (
    eventually,
    sessions_closed,
    submit,
)

FAST = WorkerConfig(concurrency=4, lease_s=2.0, heartbeat_s=0.2, poll_s=0.05, drain_timeout_s=5.0)


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with Simulator(devices=2, platforms=["cisco_ios"]) as simulator:
        yield simulator


class Running:
    """A worker on its own asyncio task, with a real device pool."""

    def __init__(
        self, store: SqlStore, tmp: Path, config: WorkerConfig = FAST, **executor: Any
    ) -> None:
        self.pool = device_pool(
            PoolSettings(), WorkerSettings(), ConnectSettings(known_hosts=tmp / "known_hosts")
        )
        self.worker = Worker(
            store,
            PoolExecutor(self.pool, **executor),
            config,
            warm_devices=self.pool.warm_devices,
        )
        self.task = asyncio.create_task(self.worker.run())

    async def stop(self, *, immediate: bool = False) -> None:
        self.worker.stop(immediate=immediate)
        await asyncio.wait_for(self.task, 30)
        await self.pool.close(timeout=5)


async def _finished(store: SqlStore, job_id: int) -> bool:
    return (await store.jobs.get(job_id, tasks=False)).finished


async def test_a_hung_task_fails_at_its_deadline_and_its_session_is_dropped(
    tmp_path: Path, sim: Simulator, store: SqlStore
) -> None:
    device = sim.devices[0]
    device.set_faults(hang_on="show clock")
    running = Running(store, tmp_path)
    try:
        job = await submit(store, [device.name], commands=["show clock"], task_deadline_s=0.5)
        await eventually(
            lambda: _finished(store, job.id), timeout=20, what="the deadline ends the task"
        )
        record = await store.jobs.get(job.id, tasks=True, outputs=True)
        assert record.tasks is not None
        task = record.tasks[0]
        assert task.state == "failed"
        assert task.error_kind == "deadline_exceeded", task
        assert task.attempt == 1  # a deadline is not retried
        await eventually(sessions_closed(sim), timeout=10, what="the stuck session is closed")
    finally:
        await running.stop()


async def test_the_watchdog_fails_another_workers_task_past_its_deadline(
    tmp_path: Path, sim: Simulator, store: SqlStore
) -> None:
    job = await submit(store, [sim.devices[0].name], commands=["show version"], task_deadline_s=0.2)
    [ghost] = await store.claims.claim("ghost-worker", 1, lease_s=600)  # alive, but stuck
    running = Running(store, tmp_path, WorkerConfig(**{**_fields(FAST), "deadline_grace_s": 0.1}))
    try:
        await eventually(
            lambda: _finished(store, job.id), timeout=20, what="the watchdog fails the task"
        )
        record = await store.jobs.get(job.id, tasks=True, outputs=False)
        assert record.tasks is not None
        assert record.tasks[0].state == "failed"
        assert record.tasks[0].error_kind == "deadline_exceeded"
        assert running.worker.stats.reaped >= 1
    finally:
        await running.stop()
    assert ghost.task_id == record.tasks[0].id


async def test_shutdown_drains_short_tasks_and_hands_long_ones_back(
    tmp_path: Path, sim: Simulator, store: SqlStore
) -> None:
    quick, slow = sim.devices
    slow.set_faults(hang_on="show clock")  # never finishes on its own
    quick.set_faults(latency_ms=50)  # about a second, login included
    running = Running(store, tmp_path, WorkerConfig(**{**_fields(FAST), "drain_timeout_s": 4.0}))
    job_quick = await submit(store, [quick.name], commands=["show version"])
    job_slow = await submit(store, [slow.name], commands=["show version", "show clock"])

    async def both_running() -> bool:
        return len(running.worker.running) == 2 and slow.stats.command_count >= 3

    await eventually(both_running, timeout=20, what="both tasks run")
    await running.stop()

    done = await store.jobs.get(job_quick.id, tasks=True, outputs=True)
    assert done.state == "succeeded"  # finished within the drain timeout
    back = await store.jobs.get(job_slow.id, tasks=True, outputs=False)
    assert back.tasks is not None
    task = back.tasks[0]
    assert task.state == "retrying", task  # handed back to the queue
    assert task.error_kind == "worker_shutdown"
    assert task.lease_owner is None
    # It ran longer than its lease (drain 4 s > lease 2 s): heartbeats kept renewing it.
    assert task.attempt == 1, task
    assert "lease_expired" not in [e.kind for e in await store.jobs.events(job_slow.id)]
    stats = running.worker.stats
    assert (stats.succeeded, stats.retries_scheduled) == (1, 1)
    await eventually(sessions_closed(sim), timeout=10, what="the pool closed every session")

    slow.clear_faults()
    again = Running(store, tmp_path)
    try:
        await eventually(
            lambda: _finished(store, job_slow.id), timeout=30, what="another worker finishes it"
        )
        final = await store.jobs.get(job_slow.id, tasks=True, outputs=True)
        assert final.state == "succeeded"
    finally:
        await again.stop()
    workers = {w.id: w for w in await store.workers.list()}
    assert workers[running.worker.worker_id].state == "stopped"
    assert workers[running.worker.worker_id].stats["succeeded"] == 1


async def test_events_tell_the_story_of_an_attempt(
    tmp_path: Path, sim: Simulator, store: SqlStore
) -> None:
    device = sim.devices[0]
    # A lease long enough that a heartbeat held up by CPU load cannot trip the hold fence,
    # which closes idle sessions (then the second job could not reuse one).
    running = Running(store, tmp_path, WorkerConfig(**{**_fields(FAST), "lease_s": 30.0}))
    try:
        first = await submit(store, [device.name], commands=["show version", "show clock"])
        await eventually(lambda: _finished(store, first.id), timeout=20, what="job 1")
        second = await submit(store, [device.name], commands=["show version"])
        await eventually(lambda: _finished(store, second.id), timeout=20, what="job 2")
    finally:
        await running.stop()
    story = [(e.kind, e.message) for e in await store.jobs.events(first.id) if e.task_id]
    assert story == [
        ("claimed", story[0][1]),
        ("connected", "new session"),
        ("command", "show version"),
        ("command", "show clock"),
        ("succeeded", ""),
    ]
    reused = [(e.kind, e.message) for e in await store.jobs.events(second.id) if e.task_id]
    assert ("connected", "reused session") in reused


def _fields(config: WorkerConfig) -> dict[str, object]:
    return {f: getattr(config, f) for f in config.__dataclass_fields__}


async def test_the_worker_applies_retention_to_old_finished_jobs(
    tmp_path: Path, sim: Simulator, store: SqlStore
) -> None:
    names = [d.name for d in sim.devices]
    old = await submit(store, names[:1], commands=["show version"])
    await store.jobs.cancel(old.id)  # finished now
    later = await submit(store, names[1:], commands=["show version"], run_at="2999-01-01T00:00:00Z")
    config = WorkerConfig(
        **{**_fields(FAST), "retention_s": 0.2, "retention_every_s": 0.1, "reap_interval_s": 0.05}
    )
    running = Running(store, tmp_path, config)
    try:

        async def deleted() -> bool:
            return old.id not in {j.id for j in (await store.jobs.list()).items}

        await eventually(deleted, timeout=20, what="retention deletes the finished job")
        assert (await store.jobs.get(later.id, tasks=False)).state == "queued"  # not finished
    finally:
        await running.stop()


def test_retention_comes_from_the_database_settings() -> None:
    from netfleet.core.settings import DatabaseSettings, Settings
    from netfleet.worker.process import worker_config

    two_days = Settings(database=DatabaseSettings(retention_days=2))
    assert worker_config(two_days).retention_s == 2 * 86_400
    assert worker_config(Settings(database=DatabaseSettings(retention_days=0))).retention_s is None


async def test_results_per_command_parsed_when_asked_and_abort_first(
    tmp_path: Path, sim: Simulator, store: SqlStore
) -> None:
    device = sim.devices[0].name
    running = Running(store, tmp_path)
    try:
        parsed = await submit(store, [device], commands=["show version"], parse="textfsm")
        aborted = await submit(
            store,
            [device],
            commands=["show version", "show no-such-thing", "show clock"],
            failure_strategy="abort_first",
        )
        for job in (parsed, aborted):
            await eventually(lambda j=job: _finished(store, j.id), timeout=20, what="the jobs")
    finally:
        await running.stop()
    [rows] = (await store.jobs.get(parsed.id)).tasks or ()
    assert rows.state == "succeeded"
    [show_version] = rows.outputs
    assert show_version.command == "show version"
    assert show_version.ok
    assert isinstance(show_version.parsed, list)
    assert show_version.parsed, show_version  # textfsm rows
    assert show_version.duration_ms > 0
    [task] = (await store.jobs.get(aborted.id)).tasks or ()
    assert task.state == "failed"
    assert task.attempt == 1  # a rejected command is not transient: no retry
    assert task.error is not None
    assert "show no-such-thing" in task.error
    outputs = task.last_outputs()
    assert [(o.command, o.ok) for o in outputs] == [
        ("show version", True),
        ("show no-such-thing", False),
        ("show clock", False),
    ]
    assert outputs[1].error_kind == "command_error", outputs[1]
    assert outputs[2].error_kind == "not_run"  # aborted after the first failure


async def test_the_worker_failure_strategy_applies_when_a_job_names_none(
    tmp_path: Path, sim: Simulator, store: SqlStore
) -> None:
    """A user's existing ``[worker] failure_strategy`` keeps working as the default."""
    device = sim.devices[0].name
    commands = ["show no-such-thing", "show clock", "show no-such-thing", "show version"]
    running = Running(store, tmp_path, failure_strategy="abort_after_n", failure_n=2)
    try:
        default = await submit(store, [device], commands=commands)
        explicit = await submit(store, [device], commands=commands, failure_strategy="continue")
        for job in (default, explicit):
            await eventually(lambda j=job: _finished(store, j.id), timeout=20, what="the jobs")
    finally:
        await running.stop()
    [task] = (await store.jobs.get(default.id)).tasks or ()
    kinds = [o.error_kind for o in task.last_outputs()]
    assert kinds == ["command_error", None, "command_error", "not_run"]  # abort_after_n:2
    [task] = (await store.jobs.get(explicit.id)).tasks or ()
    assert [o.ok for o in task.last_outputs()][-1] is True  # the job's own choice wins


class Recording(PoolExecutor):
    """Records the attempts it was asked to run: (task id, attempt)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.ran: list[tuple[int, int]] = []

    async def __call__(self, claimed: ClaimedTask, report: AttemptReport) -> TaskOutcome:
        self.ran.append((claimed.task_id, claimed.attempt))
        return await super().__call__(claimed, report)


async def test_a_claim_whose_reply_comes_back_past_the_fence_point_does_not_start(
    tmp_path: Path, sim: Simulator, store: SqlStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The first claim's reply takes a whole lease (a slow store, a stalled process): by
    # the worker's clock the lease may be gone, and another worker may run the task.
    real_claim = store.claims.claim
    slowed: list[int] = []

    async def slow_claim(*args: Any, **kwargs: Any) -> list[ClaimedTask]:
        claimed = await real_claim(*args, **kwargs)
        if claimed and not slowed:
            slowed.append(claimed[0].task_id)
            await asyncio.sleep(FAST.lease_s)
        return claimed

    monkeypatch.setattr(store.claims, "claim", slow_claim)
    pool = device_pool(
        PoolSettings(), WorkerSettings(), ConnectSettings(known_hosts=tmp_path / "known_hosts")
    )
    executor = Recording(pool)
    worker = Worker(store, executor, FAST, warm_devices=pool.warm_devices)
    task = asyncio.create_task(worker.run())
    try:
        job = await submit(store, [sim.devices[0].name], commands=["show clock"])
        await eventually(lambda: _finished(store, job.id), timeout=30, what="the job finished")
        record = await store.jobs.get(job.id, tasks=True, outputs=False)
        assert record.state == "succeeded", record
        assert record.tasks is not None
        assert record.tasks[0].attempt == 2  # the stale claim's lease expired: reclaimed
        assert executor.ran == [(slowed[0], 2)]  # the first attempt never ran
    finally:
        worker.stop()
        await asyncio.wait_for(task, 30)
        await pool.close(timeout=5)

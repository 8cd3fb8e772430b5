"""The worker runtime in-process (real SQLite store, real SSH to the simulator):
deadlines, the deadline watchdog, draining on shutdown, events and stats."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from worker_harness import eventually, import_sim_devices, open_test_store, sessions_closed, submit

from netfleet.core.settings import ConnectSettings, PoolSettings, WorkerSettings
from netfleet.pool import device_pool
from netfleet.store import SqlStore
from netfleet.worker import Worker, WorkerConfig
from netfleet.worker.executor import PoolExecutor
from netfleet_sim import Simulator

FAST = WorkerConfig(concurrency=4, lease_s=2.0, heartbeat_s=0.2, poll_s=0.05, drain_timeout_s=5.0)


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with Simulator(devices=2, platforms=["cisco_ios"]) as simulator:
        yield simulator


@pytest.fixture
async def store(tmp_path: Path, sqlite_url: str, sim: Simulator) -> AsyncIterator[SqlStore]:
    sim.write_inventory(tmp_path / "inv.yaml")
    opened = await open_test_store(sqlite_url)
    await import_sim_devices(opened, tmp_path / "inv.yaml")
    try:
        yield opened
    finally:
        await opened.close()


class Running:
    """A worker on its own asyncio task, with a real device pool."""

    def __init__(self, store: SqlStore, tmp: Path, config: WorkerConfig = FAST) -> None:
        self.pool = device_pool(
            PoolSettings(), WorkerSettings(), ConnectSettings(known_hosts=tmp / "known_hosts")
        )
        self.worker = Worker(
            store,
            PoolExecutor(self.pool),
            config,
            warm_devices=self.pool.warm_devices,
        )
        self.task = asyncio.create_task(self.worker.run())

    async def stop(self, *, immediate: bool = False) -> None:
        self.worker.stop(immediate=immediate)
        await asyncio.wait_for(self.task, 30)
        await self.pool.close(timeout=5)


async def _finished(store: SqlStore, job_id: int) -> bool:
    return (await store.get_job(job_id, tasks=False)).finished


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
        record = await store.get_job(job.id, tasks=True, outputs=True)
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
    [ghost] = await store.claim("ghost-worker", 1, lease_s=600)  # alive, but stuck
    running = Running(store, tmp_path, WorkerConfig(**{**_fields(FAST), "deadline_grace_s": 0.1}))
    try:
        await eventually(
            lambda: _finished(store, job.id), timeout=20, what="the watchdog fails the task"
        )
        record = await store.get_job(job.id, tasks=True, outputs=False)
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

    done = await store.get_job(job_quick.id, tasks=True, outputs=True)
    assert done.state == "succeeded"  # finished within the drain timeout
    back = await store.get_job(job_slow.id, tasks=True, outputs=False)
    assert back.tasks is not None
    task = back.tasks[0]
    assert task.state == "retrying", task  # handed back to the queue
    assert task.error_kind == "worker_shutdown"
    assert task.lease_owner is None
    stats = running.worker.stats
    assert (stats.succeeded, stats.retries_scheduled) == (1, 1)
    await eventually(sessions_closed(sim), timeout=10, what="the pool closed every session")

    slow.clear_faults()
    again = Running(store, tmp_path)
    try:
        await eventually(
            lambda: _finished(store, job_slow.id), timeout=30, what="another worker finishes it"
        )
        final = await store.get_job(job_slow.id, tasks=True, outputs=True)
        assert final.state == "succeeded"
    finally:
        await again.stop()
    workers = {w.id: w for w in await store.list_workers()}
    assert workers[running.worker.worker_id].state == "stopped"
    assert workers[running.worker.worker_id].stats["succeeded"] == 1


async def test_events_tell_the_story_of_an_attempt(
    tmp_path: Path, sim: Simulator, store: SqlStore
) -> None:
    device = sim.devices[0]
    running = Running(store, tmp_path)
    try:
        first = await submit(store, [device.name], commands=["show version", "show clock"])
        await eventually(lambda: _finished(store, first.id), timeout=20, what="job 1")
        second = await submit(store, [device.name], commands=["show version"])
        await eventually(lambda: _finished(store, second.id), timeout=20, what="job 2")
    finally:
        await running.stop()
    story = [(e.kind, e.message) for e in await store.events(first.id) if e.task_id]
    assert story == [
        ("claimed", story[0][1]),
        ("connected", "new session"),
        ("command", "show version"),
        ("command", "show clock"),
        ("succeeded", ""),
    ]
    reused = [(e.kind, e.message) for e in await store.events(second.id) if e.task_id]
    assert ("connected", "reused session") in reused


def _fields(config: WorkerConfig) -> dict[str, object]:
    return {f: getattr(config, f) for f in config.__dataclass_fields__}

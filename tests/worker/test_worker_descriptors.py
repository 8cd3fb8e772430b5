"""The worker through descriptor exhaustion (``EMFILE``), in-process with a real SQLite
store and real SSH to the simulator: no loop dies, connects fail as a clear transient
``resource_exhausted`` and are retried, and the job finishes once descriptors are back."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from netfleet.core.settings import ConnectSettings, PoolSettings, WorkerSettings
from netfleet.pool import device_pool
from netfleet.store import SqlStore
from netfleet.worker import Worker, WorkerConfig
from netfleet.worker.executor import PoolExecutor
from netfleet_sim import Simulator
from tests.support.descriptors import descriptors_exhausted
from tests.support.worker import eventually, sessions_closed, submit

FAST = WorkerConfig(concurrency=4, lease_s=10.0, heartbeat_s=0.05, poll_s=0.05, drain_timeout_s=5)


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with Simulator(devices=1, platforms=["cisco_ios"]) as simulator:
        yield simulator


async def test_the_worker_runs_through_descriptor_exhaustion(
    tmp_path: Path, sim: Simulator, store: SqlStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    beats = 0
    real_heartbeat = store.claims.heartbeat

    async def heartbeat(*args: Any, **kwargs: Any) -> Any:
        nonlocal beats
        beats += 1
        return await real_heartbeat(*args, **kwargs)

    monkeypatch.setattr(store.claims, "heartbeat", heartbeat)
    pool = device_pool(
        PoolSettings(), WorkerSettings(), ConnectSettings(known_hosts=tmp_path / "known_hosts")
    )
    worker = Worker(store, PoolExecutor(pool), FAST, warm_devices=pool.warm_devices)
    run = asyncio.create_task(worker.run())
    device = sim.devices[0]
    try:
        await eventually(_state_is(worker, "running"), timeout=20, what="the worker running")
        with descriptors_exhausted():
            job = await submit(
                store, [device.name], commands=["show clock"],
                max_attempts=50, backoff_base_s=0.05, backoff_max_s=0.2,
            )  # fmt: skip
            before = beats

            async def through_it() -> bool:
                done = worker.stats.retries_scheduled >= 1 and beats >= before + 3
                return done or worker.stopping

            await eventually(through_it, timeout=20, what="a retry and heartbeats while out")
            assert not worker.stopping, "a worker loop died on EMFILE"
        assert worker.stats.succeeded == 0

        async def finished() -> bool:
            return (await store.jobs.get(job.id, tasks=False)).finished or worker.stopping

        await eventually(finished, timeout=30, what="the job finished once descriptors are back")
        assert not worker.stopping
        record = await store.jobs.get(job.id, tasks=True)
        assert record.state == "succeeded", record
        assert record.tasks is not None
        assert record.tasks[0].attempt >= 2
        retries = [e for e in await store.jobs.events(job.id) if e.kind == "retry_scheduled"]
        assert retries, "the attempts while out of descriptors were not retried"
        for event in retries:
            assert event.data["error_kind"] == "resource_exhausted", event
            assert "too many open files" in event.message, event
        stats = pool.stats().total
        assert stats.opening == 0  # nothing left half-open
        assert stats.in_use == 0
        assert device.stats.sessions_open <= 1
    finally:
        worker.stop()
        await asyncio.wait_for(run, 30)
        await pool.close(timeout=5)
    await eventually(sessions_closed(sim), timeout=10, what="every session closed")


def _state_is(worker: Worker, state: str) -> Any:
    async def check() -> bool:
        return worker.state == state

    return check

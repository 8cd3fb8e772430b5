"""Config attempts and their durable progress marks, through a real worker and SSH to
the simulator: a transient connect error before any line is sent is retried even for
non-idempotent config; a config that ran writes its mark before its first line."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from netfleet.core.settings import ConnectSettings, PoolSettings, WorkerSettings
from netfleet.pool import device_pool
from netfleet.store import SqlStore
from netfleet.worker import Worker, WorkerConfig
from netfleet.worker.executor import PoolExecutor
from netfleet_sim import Simulator
from tests.support.worker import eventually, submit

FAST = WorkerConfig(concurrency=4, lease_s=10.0, heartbeat_s=0.2, poll_s=0.05)


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with Simulator(devices=1, platforms=["cisco_ios"]) as simulator:
        yield simulator


async def marks(store: SqlStore) -> list[tuple[int, int, str]]:
    def op(conn: sa.Connection) -> list[tuple[int, int, str]]:
        rows = conn.execute(sa.text("SELECT task_id, attempt, first_line FROM config_marks"))
        return [(int(t), int(a), str(f)) for t, a, f in rows]

    return await store.db.run(op, write=False)


async def test_unsent_config_retries_after_a_connect_error_and_marks_before_sending(
    tmp_path: Path, sim: Simulator, store: SqlStore
) -> None:
    device = sim.devices[0]
    device.set_faults(refuse_sessions=True)  # TCP accepted and closed: nothing sent
    pool = device_pool(
        PoolSettings(), WorkerSettings(), ConnectSettings(known_hosts=tmp_path / "known_hosts")
    )
    worker = Worker(store, PoolExecutor(pool), FAST, warm_devices=pool.warm_devices)
    running = asyncio.create_task(worker.run())
    try:
        job = await submit(
            store,
            [device.name],
            config=["interface Loopback7", "description marked"],
            backoff_base_s=0.1,
            backoff_max_s=0.2,
        )

        async def retrying() -> bool:
            record = await store.jobs.get(job.id, tasks=True, outputs=False)
            assert record.tasks is not None
            task = record.tasks[0]
            assert task.state != "failed", task  # not idempotent, yet nothing was sent
            return task.state == "retrying" or task.attempt >= 2

        await eventually(retrying, timeout=30, what="the unsent config is retried")
        assert await marks(store) == []  # no line was ever about to be sent
        device.clear_faults()

        async def finished() -> bool:
            return (await store.jobs.get(job.id, tasks=False)).finished

        await eventually(finished, timeout=30, what="the config ran")
        record = await store.jobs.get(job.id, tasks=True, outputs=False)
        assert record.state == "succeeded", record
        assert record.tasks is not None
        (mark,) = await marks(store)
        assert mark == (record.tasks[0].id, record.tasks[0].attempt, "interface Loopback7")
        assert device.stats.line_counts.get("description marked") == 1
    finally:
        worker.stop()
        await asyncio.wait_for(running, 30)
        await pool.close(timeout=5)

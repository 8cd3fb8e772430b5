"""PostgreSQL specifics: a server restart mid-run (workers reconnect, nothing is lost;
on a private instance, as the shared one serves other tests meanwhile), and NOTIFY
wake-ups of idle workers."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from netfleet_sim import Simulator
from tests.support.pgserver import PrivatePostgres, find_pg_bin
from tests.support.worker import (
    Fleet,
    eventually,
    import_sim_devices,
    open_test_store,
    running,
    submit,
    task_rows_async,
)

COMMANDS = ["show version", "show clock"]


@pytest.fixture
def private_pg() -> Iterator[PrivatePostgres]:
    bin_dir = find_pg_bin()
    if bin_dir is None:
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) are not installed")
    server = PrivatePostgres(bin_dir)
    try:
        server.start()
        yield server
    finally:
        server.cleanup()


@pytest.mark.postgres
async def test_postgres_restart_mid_run(
    tmp_path: Path, private_pg: PrivatePostgres, fleet_factory: list[Fleet]
) -> None:
    url = private_pg.url
    async with Simulator(devices=6, platforms=["cisco_ios"], latency_ms=30) as sim:
        sim.write_inventory(tmp_path / "inv.yaml")
        store = await open_test_store(url)
        fleet = Fleet(url, tmp_path, {"NETFLEET_WORKER__LEASE_SECONDS": "4"})
        fleet_factory.append(fleet)
        try:
            names = [s.name for s in await import_sim_devices(store, tmp_path / "inv.yaml")]
            jobs = [
                await submit(store, names, commands=COMMANDS, backoff_base_s=0.1) for _ in range(15)
            ]
            workers = [fleet.start("pg"), fleet.start("pg")]

            async def some_done() -> bool:
                rows = await task_rows_async(url)
                return sum(r["state"] == "succeeded" for r in rows) >= 10

            await eventually(some_done, timeout=30, what="the first tasks succeed")
            await asyncio.to_thread(private_pg.restart)
            restarted_at = sum(r["state"] == "succeeded" for r in await task_rows_async(url))

            async def all_finished() -> bool:
                rows = await task_rows_async(url)
                return all(r["state"] in ("succeeded", "failed", "cancelled") for r in rows)

            await eventually(all_finished, timeout=60, what="every task finished", interval=0.2)
            assert all(w.alive for w in workers)  # they rode out the restart

            total = 0
            for job in jobs:
                record = await store.jobs.get(job.id, tasks=True, outputs=True)
                assert record.tasks is not None
                for task in record.tasks:
                    total += 1
                    assert task.state == "succeeded", task
                    assert [o.command for o in task.last_outputs()] == COMMANDS
            assert total == len(names) * len(jobs)
            assert restarted_at < total  # the restart really happened mid-run
            for worker in workers:
                await worker.terminate()
            logs = "".join(w.log() for w in workers)
            assert "store unavailable" in logs or "failed; retrying" in logs or "will retry" in logs
        finally:
            await store.close()


@pytest.mark.postgres
async def test_notify_wakes_an_idle_worker_long_before_its_poll(
    tmp_path: Path, pg_url: str, fleet_factory: list[Fleet]
) -> None:
    async with Simulator(devices=1, platforms=["cisco_ios"]) as sim:
        sim.write_inventory(tmp_path / "inv.yaml")
        store = await open_test_store(pg_url)
        # Polling every 60 s: only a NOTIFY can start the second job within the wait below.
        fleet = Fleet(pg_url, tmp_path, {"NETFLEET_WORKER__POLL_SECONDS": "60"})
        fleet_factory.append(fleet)
        try:
            names = [s.name for s in await import_sim_devices(store, tmp_path / "inv.yaml")]
            worker = fleet.start("notify")
            await running(store, worker)  # the bounds below are on the work, not on imports
            first = await submit(store, names, commands=["show version"])

            async def finished(job_id: int) -> bool:
                return (await store.jobs.get(job_id, tasks=False)).finished

            await eventually(lambda: finished(first.id), timeout=30, what="the first job")
            await asyncio.sleep(0.5)  # the worker is idle, waiting
            second = await submit(store, names, commands=["show clock"])
            await eventually(lambda: finished(second.id), timeout=20, what="a NOTIFY wake-up")
            await worker.terminate()
        finally:
            await store.close()

"""``netfleet worker`` as users run it: exit codes, and signals (drain, then stop now)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from netfleet.jobs.schedule import build_schedule
from netfleet_sim import Simulator
from tests.support.worker import (
    PATIENCE,
    STEADY_LEASE_ENV,
    Fleet,
    eventually,
    import_sim_devices,
    logged,
    open_test_store,
    running,
    submit,
)

WORKER = [sys.executable, "-c", "from netfleet.cli.app import main; main()", "worker"]


@pytest.mark.parametrize(
    ("args", "env", "code", "message"),
    [
        (["--db", "nosuch://x"], {}, 2, "unsupported database 'nosuch'"),
        ([], {"NETFLEET_WORKER__CONCURRENCY": "0"}, 2, "worker.concurrency"),
        (["--concurrency", "0"], {}, 2, "--concurrency"),
        (["--db", "sqlite:////nonexistent/dir/x.db"], {}, 2, "/nonexistent/dir"),
    ],
    ids=["bad-url", "bad-setting", "bad-concurrency", "missing-dir"],
)
def test_exit_codes(
    tmp_path: Path, args: list[str], env: dict[str, str], code: int, message: str
) -> None:
    fleet = Fleet("unused", tmp_path, env)
    done = subprocess.run(
        [*WORKER, *args],
        env={**os.environ, **fleet.env},
        capture_output=True,
        timeout=60 * PATIENCE,  # most of it is Python importing netfleet, slow under load
    )
    assert done.returncode == code, done.stderr
    assert message in done.stderr.decode()
    assert b"Traceback" not in done.stderr


async def test_worker_waits_for_an_unreachable_database_and_stops_on_sigterm(
    tmp_path: Path,
) -> None:
    fleet = Fleet("postgresql://postgres@127.0.0.1:1/none", tmp_path)
    worker = fleet.start("waiting")
    try:
        await eventually(
            logged(worker, "the worker waits for it"), timeout=60, what="waiting for the database"
        )
        assert worker.alive  # not exited with 3
        await worker.terminate()
        assert "Traceback" not in worker.log()
    finally:
        fleet.close()


async def test_second_signal_stops_without_waiting_for_the_drain(
    tmp_path: Path, sqlite_url: str, fleet_factory: list[Fleet]
) -> None:
    async with Simulator(devices=1, platforms=["cisco_ios"]) as sim:
        sim.write_inventory(tmp_path / "inv.yaml")
        sim.devices[0].set_faults(hang_on="show clock")
        store = await open_test_store(sqlite_url)
        # No lease may expire while the task hangs: the drain, not the reaper, hands it back.
        env = {**STEADY_LEASE_ENV, "NETFLEET_WORKER__DRAIN_TIMEOUT_SECONDS": "600"}
        fleet = Fleet(sqlite_url, tmp_path, env)
        fleet_factory.append(fleet)
        try:
            names = [s.name for s in await import_sim_devices(store, tmp_path / "inv.yaml")]
            job = await submit(store, names, commands=["show clock"])
            worker = fleet.start("signals")

            await running(store, worker)  # the bounds below are on the work, not on imports

            async def hung() -> bool:
                record = await store.jobs.get(job.id, tasks=True, outputs=False)
                assert record.tasks is not None
                return record.tasks[0].state == "running"

            await eventually(hung, timeout=20, what="the task hangs")
            worker.signal(signal.SIGTERM)
            await eventually(logged(worker, "draining running tasks"), timeout=10, what="draining")
            assert worker.alive  # waiting for the hung task (drain timeout: 600 s)
            worker.signal(signal.SIGINT)
            assert await worker.wait_exit(timeout=30) == 0
            record = await store.jobs.get(job.id, tasks=True, outputs=False)
            assert record.tasks is not None
            assert record.tasks[0].state == "retrying"  # handed back, not stuck running
            assert record.tasks[0].error_kind == "worker_shutdown"
            workers = {w.id: w for w in await store.workers.list()}
            assert workers[worker.id].state == "stopped"
        finally:
            await store.close()


async def test_the_worker_fires_due_schedules(
    tmp_path: Path, sqlite_url: str, fleet_factory: list[Fleet]
) -> None:
    async with Simulator(devices=1, platforms=["cisco_ios"]) as sim:
        sim.write_inventory(tmp_path / "inv.yaml")
        store = await open_test_store(sqlite_url)
        fleet = Fleet(sqlite_url, tmp_path)
        fleet_factory.append(fleet)
        try:
            names = [s.name for s in await import_sim_devices(store, tmp_path / "inv.yaml")]
            at = datetime.now(UTC) + timedelta(seconds=1)
            spec = build_schedule(
                name="soon",
                at=at,
                job_template={"targets": {"devices": names}, "commands": ["show clock"]},
            )
            await store.schedules.create(spec)
            quiet = fleet.start("quiet")  # --no-scheduler
            firing = fleet.start("firing", scheduler=True)
            await running(store, quiet, firing)  # the bound below is on the work, not on imports

            async def fired_and_done() -> bool:
                page = await store.jobs.list()
                return len(page.items) == 1 and page.items[0].finished

            await eventually(fired_and_done, timeout=30, what="the schedule fired and ran")
            [job] = (await store.jobs.list()).items
            assert job.state == "succeeded"
            assert job.schedule_id is not None
            for worker in (quiet, firing):
                await worker.terminate()
        finally:
            await store.close()

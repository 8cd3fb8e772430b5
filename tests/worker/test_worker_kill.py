"""SIGKILL workers mid-task again and again: every task still ends, none lost or stuck."""

from __future__ import annotations

from pathlib import Path

import pytest

from netfleet_sim import Simulator
from tests.support.worker import (
    Fleet,
    eventually,
    import_sim_devices,
    open_test_store,
    running,
    sessions_closed,
    submit,
    task_rows_async,
)

KILLS = 20
COMMANDS = ["show version", "show clock", "show ip interface brief"]


@pytest.mark.slow
async def test_sigkill_mid_task_twenty_times(
    tmp_path: Path, sqlite_url: str, fleet_factory: list[Fleet]
) -> None:
    async with Simulator(devices=8, platforms=["cisco_ios"], latency_ms=40) as sim:
        sim.write_inventory(tmp_path / "inv.yaml")
        store = await open_test_store(sqlite_url)
        try:
            names = [s.name for s in await import_sim_devices(store, tmp_path / "inv.yaml")]
            jobs = []

            async def add_work() -> None:
                for _ in range(4):
                    job = await submit(
                        store, names, commands=COMMANDS, max_attempts=6, backoff_base_s=0.05
                    )
                    jobs.append(job.id)

            await add_work()
            fleet = Fleet(sqlite_url, tmp_path)
            fleet_factory.append(fleet)
            first = [fleet.start("kill") for _ in range(3)]
            await running(store, *first, timeout=180)  # start-up has its own bound (imports)
            # Replacements start while the others work.

            kills = 0
            while kills < KILLS:
                victim = None

                async def someone_mid_task() -> bool:
                    nonlocal victim
                    rows = await task_rows_async(sqlite_url)
                    owners = {r["lease_owner"] for r in rows if r["state"] == "running"}
                    victim = next((w for w in fleet.live() if w.id in owners), None)
                    if victim is None and not any(
                        r["state"] in ("queued", "retrying", "running") for r in rows
                    ):
                        await add_work()  # ran out of work before enough kills
                    return victim is not None

                await eventually(someone_mid_task, timeout=30, what="a worker running a task")
                assert victim is not None
                victim.kill()
                kills += 1
                fleet.start("kill")

            async def all_finished() -> bool:
                rows = await task_rows_async(sqlite_url)
                return all(r["state"] in ("succeeded", "failed", "cancelled") for r in rows)

            await eventually(all_finished, timeout=60, what="every task finished", interval=0.2)

            async def all_registered() -> bool:
                ids = {w.id for w in await store.workers.list()}
                return all(w.id in ids for w in fleet.live())

            # A worker registers after it installs its signal handlers: one started just
            # now (slow to start on a loaded machine) would otherwise die of SIGTERM.
            await eventually(all_registered, timeout=60, what="every worker started")
            for worker in fleet.live():
                worker.signal(15)
            for worker in fleet.live():
                assert await worker.wait_exit(timeout=20) == 0, worker.log()[-2000:]

            interrupted = 0
            expired = 0
            for job_id in jobs:
                job = await store.jobs.get(job_id, tasks=True, outputs=True)
                assert job.finished, job
                assert job.tasks is not None
                for task in job.tasks:
                    assert task.state in ("succeeded", "failed"), task
                    if task.state == "failed":
                        assert task.error, task  # failed with a reason
                    else:
                        outputs = task.last_outputs()
                        assert [o.command for o in outputs] == COMMANDS, task
                        assert all(o.ok and o.output for o in outputs), task
                    interrupted += task.attempt > 1
                events = await store.jobs.events(job_id, limit=100_000)
                expired += sum(1 for e in events if e.kind == "lease_expired")
            # The kills really hit running tasks, and the reaper recovered them.
            assert interrupted >= KILLS // 2
            assert expired >= KILLS // 2

            await eventually(
                sessions_closed(sim),
                timeout=10,
                what="the simulator sees no session left open",
            )
        finally:
            await store.close()

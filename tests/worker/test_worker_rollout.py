"""A staged rollout run by two worker processes on PostgreSQL against the simulator:
a failing canary halts it, a worker is killed and replaced, resume finishes it, and
every batch was released exactly once."""

from __future__ import annotations

from pathlib import Path

import pytest

from netfleet_sim import Simulator
from tests.support.worker import (
    STEADY_LEASE_ENV,
    Fleet,
    eventually,
    import_sim_devices,
    open_test_store,
    submit,
)


@pytest.mark.postgres
async def test_rollout_halts_survives_a_worker_restart_and_resumes(
    tmp_path: Path, pg_url: str, fleet_factory: list[Fleet]
) -> None:
    async with Simulator(devices=8, platforms=["cisco_ios"]) as sim:
        sim.write_inventory(tmp_path / "inv.yaml")
        store = await open_test_store(pg_url)
        fleet = Fleet(pg_url, tmp_path, STEADY_LEASE_ENV)
        fleet_factory.append(fleet)
        try:
            names = sorted(s.name for s in await import_sim_devices(store, tmp_path / "inv.yaml"))
            sim.device(names[1]).set_faults(deny=r"^ntp server")
            workers = [fleet.start("a"), fleet.start("b")]
            rollout = {"canary": 2, "batches": [3], "max_failures": 0}
            job = await submit(store, names, config=["ntp server 192.0.2.5"], rollout=rollout)

            async def halted() -> bool:
                return (await store.jobs.get(job.id, tasks=False)).state == "halted"

            await eventually(halted, timeout=60, what="the rollout halts")
            record = await store.jobs.get(job.id, tasks=False)
            assert (record.counts.failed, record.counts.queued) == (1, 6)
            assert [sim.device(n).stats.logins for n in names[2:]] == [0] * 6

            workers[0].kill()
            workers.append(fleet.start("c"))
            sim.device(names[1]).clear_faults()
            assert await store.changes.resume(job.id, "admin-a") == "running"

            async def finished() -> bool:
                return (await store.jobs.get(job.id, tasks=False)).finished_at is not None

            await eventually(finished, timeout=90, what="the rollout finishes", interval=0.2)
            final = await store.jobs.get(job.id, tasks=False)
            assert final.state == "partial"
            assert (final.counts.succeeded, final.counts.failed) == (7, 1)
            gate = await store.changes.gate(job.id)
            assert gate.plan == (2, 3, 3)
            assert (gate.batch, gate.released, gate.state) == (3, 8, "done")
            batches = [
                e.data["batch"]
                for e in await store.jobs.events(job.id)
                if e.kind == "rollout.batch"
            ]
            assert batches == [1, 2, 3]
            assert all(sim.device(n).stats.logins >= 1 for n in names)
        finally:
            await store.close()

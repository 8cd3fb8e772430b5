"""Lease loss: a frozen worker's task is recovered; its late result is rejected and dropped."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import pytest

from netfleet.core.errors import LeaseLost
from netfleet.core.models import CommandResult
from netfleet.store.records import TaskOutcome
from netfleet_sim import Simulator
from tests.support.worker import (
    Fleet,
    eventually,
    freeze,
    import_sim_devices,
    logged,
    open_test_store,
    running,
    submit,
)


async def test_frozen_worker_loses_its_task_and_its_late_result_is_dropped(
    tmp_path: Path, sqlite_url: str, fleet_factory: list[Fleet]
) -> None:
    async with Simulator(devices=1, platforms=["cisco_ios"]) as sim:
        sim.write_inventory(tmp_path / "inv.yaml")
        device = sim.devices[0]
        store = await open_test_store(sqlite_url)
        fleet = Fleet(sqlite_url, tmp_path)
        fleet_factory.append(fleet)
        try:
            names = [s.name for s in await import_sim_devices(store, tmp_path / "inv.yaml")]
            device.set_faults(latency_ms=300)  # slow replies: the task is caught mid-way
            job = await submit(store, names, commands=["show version"])
            frozen = fleet.start("frozen")
            await running(store, frozen)  # the bounds below are on the work, not on imports

            async def running_on_frozen() -> bool:
                record = await store.jobs.get(job.id, tasks=True, outputs=False)
                assert record.tasks is not None
                return record.tasks[0].lease_owner == frozen.id and device.stats.command_count > 0

            await eventually(running_on_frozen, timeout=20, what="the task runs on 'frozen'")
            await freeze(frozen, sqlite_url)  # no heartbeats: its lease expires
            try:
                rescuer = fleet.start("rescuer")
                await running(store, rescuer)

                async def finished() -> bool:
                    return (await store.jobs.get(job.id, tasks=False)).finished

                await eventually(finished, timeout=30, what="the task is recovered and finished")
            finally:
                frozen.signal(signal.SIGCONT)
            record = await store.jobs.get(job.id, tasks=True, outputs=True)
            assert record.tasks is not None
            task = record.tasks[0]
            assert task.state == "succeeded", task
            assert task.attempt == 2
            assert task.lease_owner is None
            assert {o.attempt for o in task.outputs} == {2}
            kinds = [e.kind for e in await store.jobs.events(job.id)]
            assert "lease_expired" in kinds, kinds

            # The frozen worker wakes up with a result it no longer owns: it drops it.
            await eventually(
                logged(frozen, "result dropped"), timeout=20, what="'frozen' drops its result"
            )
            await asyncio.sleep(0.5)  # give a wrong write the chance to show up
            again = await store.jobs.get(job.id, tasks=True, outputs=True)
            assert again.tasks is not None
            assert again.tasks[0] == task
            for worker in (frozen, rescuer):
                await worker.terminate()
        finally:
            await store.close()


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
async def test_late_completion_after_reap_is_rejected(
    request: pytest.FixtureRequest, tmp_path: Path, backend: str
) -> None:
    if backend == "postgres":
        request.applymarker(pytest.mark.postgres)
        url = request.getfixturevalue("pg_url")
    else:
        url = request.getfixturevalue("sqlite_url")
    async with Simulator(devices=1, platforms=["cisco_ios"]) as sim:
        sim.write_inventory(tmp_path / "inv.yaml")
        store = await open_test_store(url)
        try:
            names = [s.name for s in await import_sim_devices(store, tmp_path / "inv.yaml")]
            job = await submit(store, names, commands=["show version"])
            [ghost] = await store.claims.claim("ghost", 1, lease_s=0.2)
            await asyncio.sleep(0.4)
            reaped = await store.claims.reap()
            assert reaped.requeued == (ghost.task_id,)
            [live] = await store.claims.claim("live", 1, lease_s=30)
            assert live.task_id == ghost.task_id
            assert live.attempt == ghost.attempt + 1

            late = TaskOutcome(
                status="succeeded", outputs=[CommandResult("show version", "stale output")]
            )
            with pytest.raises(LeaseLost):
                await store.completions.complete(ghost.task_id, "ghost", ghost.attempt, late)
            # A wrong attempt number from the right worker is fenced out too.
            with pytest.raises(LeaseLost):
                await store.completions.complete(live.task_id, "live", ghost.attempt, late)
            fresh = TaskOutcome(
                status="succeeded", outputs=[CommandResult("show version", "fresh output")]
            )
            done = await store.completions.complete(live.task_id, "live", live.attempt, fresh)
            assert done.state == "succeeded"
            record = await store.jobs.get(job.id, tasks=True, outputs=True)
            assert record.tasks is not None
            assert [o.output for o in record.tasks[0].outputs] == ["fresh output"]
        finally:
            await store.close()

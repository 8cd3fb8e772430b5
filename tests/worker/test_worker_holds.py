"""Session holds across worker processes: idle sessions counted, freed when their worker
dies or stops, and exclusive tasks not starved by other workers' idle sessions."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from netfleet.store import SqlStore
from netfleet_sim import Simulator
from tests.support.worker import (
    STEADY_LEASE_ENV,
    Fleet,
    eventually,
    import_sim_devices,
    open_test_store,
    running,
    submit,
    task_rows_async,
)


async def held(store: SqlStore) -> dict[str, int]:
    """Holds per worker, straight from the table."""

    def op(conn: sa.Connection) -> dict[str, int]:
        rows = conn.execute(sa.text("SELECT worker_id, held FROM session_holds")).all()
        out: dict[str, int] = {}
        for worker_id, n in rows:
            out[worker_id] = out.get(worker_id, 0) + n
        return {w: n for w, n in out.items() if n}

    return await store.db.run(op, write=False)


async def finished(store: SqlStore, job_id: int) -> bool:
    return (await store.jobs.get(job_id, tasks=False)).finished


async def test_holds_of_a_killed_worker_expire_and_a_stopped_one_releases_them(
    tmp_path: Path, sqlite_url: str, fleet_factory: list[Fleet]
) -> None:
    async with Simulator(devices=1, platforms=["cisco_ios"], latency_ms=5) as sim:
        sim.write_inventory(tmp_path / "inv.yaml")
        store = await open_test_store(sqlite_url)
        fleet = Fleet(sqlite_url, tmp_path)
        fleet_factory.append(fleet)
        try:
            (spec,) = await import_sim_devices(store, tmp_path / "inv.yaml", max_sessions=1)
            first = fleet.start("holder")
            await running(store, first)  # the bounds below are on the work, not on imports
            for _ in range(3):
                job_id = (await submit(store, [spec.name], commands=["show clock"])).id
                await eventually(
                    lambda job_id=job_id: finished(store, job_id),  # type: ignore[misc]
                    timeout=20,
                    what="a job ran",
                )
            # The worker keeps its session open, and the store counts it.
            assert await held(store) == {first.id: 1}
            assert sim.devices[0].stats.sessions_open == 1
            first.kill()
            second = fleet.start("heir")
            await running(store, second)
            job = await submit(store, [spec.name], commands=["show version"])
            # The dead worker's hold expires (lease 1.5 s), then the heir runs the task.
            await eventually(lambda: finished(store, job.id), timeout=20, what="the heir ran it")
            record = await store.jobs.get(job.id)
            assert record.state == "succeeded", record
            assert await held(store) == {second.id: 1}
            assert sim.devices[0].stats.peak_sessions == 1
            # A graceful stop closes the sessions and gives the holds back.
            await second.terminate()
            assert await held(store) == {}
            (slot,) = await store.db.run(
                lambda c: c.execute(sa.text("SELECT running FROM device_slots")).all(),
                write=False,
            )
            assert slot[0] == 0
        finally:
            await store.close()


async def test_exclusive_tasks_are_not_starved_by_idle_sessions(
    tmp_path: Path, sqlite_url: str, fleet_factory: list[Fleet]
) -> None:
    async with Simulator(devices=2, platforms=["cisco_ios"], latency_ms=10) as sim:
        sim.write_inventory(tmp_path / "inv.yaml")
        store = await open_test_store(sqlite_url)
        fleet = Fleet(sqlite_url, tmp_path, STEADY_LEASE_ENV)
        fleet_factory.append(fleet)
        try:
            names = [s.name for s in await import_sim_devices(store, tmp_path / "inv.yaml")]
            await running(store, *(fleet.start("mixed") for _ in range(3)))
            jobs = []
            for i in range(6):
                for _ in range(3):
                    jobs.append(await submit(store, names, commands=["show clock"]))
                jobs.append(
                    await submit(store, names, config=["interface Loopback7", f"description {i}"])
                )

            async def all_finished() -> bool:
                rows = await task_rows_async(sqlite_url)
                return all(r["state"] in ("succeeded", "failed", "cancelled") for r in rows)

            # Far below the pool's idle timeout (300 s): holds yield to exclusive tasks.
            await eventually(all_finished, timeout=40, what="every task finished", interval=0.1)
            for job in jobs:
                assert (await store.jobs.get(job.id)).state == "succeeded"
            assert all(d.stats.peak_sessions <= 2 for d in sim.devices)
        finally:
            for worker in fleet.live():
                worker.signal(15)
            await store.close()


async def test_a_session_the_device_closed_gives_its_hold_back_within_a_heartbeat(
    tmp_path: Path, sqlite_url: str, fleet_factory: list[Fleet]
) -> None:
    """A device reboot closes an idle pooled session: the worker's next heartbeat lets go
    of it and the store stops counting it (the pool's reaper would find it only after
    an idle timeout / 4: 30 s here, longer than this test waits even with patience 3)."""
    async with Simulator(devices=1, platforms=["cisco_ios"]) as sim:
        sim.write_inventory(tmp_path / "inv.yaml")
        store = await open_test_store(sqlite_url)
        fleet = Fleet(sqlite_url, tmp_path, env=STEADY_LEASE_ENV)
        fleet_factory.append(fleet)
        try:
            (spec,) = await import_sim_devices(store, tmp_path / "inv.yaml", max_sessions=1)
            worker = fleet.start("holder", NETFLEET_WORKER__MAX_IDLE_TIME_SECONDS="3600")
            await running(store, worker)
            job = await submit(store, [spec.name], commands=["show clock"])
            await eventually(lambda: finished(store, job.id), timeout=30, what="a job ran")
            assert await held(store) == {worker.id: 1}
            for conn in list(sim.devices[0].connections()):
                conn.close()  # the device rebooted
            await eventually(lambda: _no_holds(store), timeout=8, what="the hold given back")
            assert sim.devices[0].stats.sessions_open == 0
            again = await submit(store, [spec.name], commands=["show version"])
            await eventually(lambda: finished(store, again.id), timeout=30, what="it ran again")
            assert (await store.jobs.get(again.id)).state == "succeeded"
        finally:
            await store.close()


async def _no_holds(store: SqlStore) -> bool:
    return await held(store) == {}

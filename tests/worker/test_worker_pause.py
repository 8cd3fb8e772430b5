"""Session accounting after a paused worker: the store's per-device count of sessions
equals the sessions open at the device (the simulator's own counters), within a
heartbeat of the worker resuming — after a pause long enough that the worker stops
trusting its holds (half a lease) but short of the lease, on SQLite and PostgreSQL."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest
import sqlalchemy as sa

from netfleet.store import SqlStore
from netfleet_sim import Simulator
from tests.support.worker import (
    Fleet,
    eventually,
    import_sim_devices,
    logged,
    open_test_store,
    running,
    submit,
)

LEASE_S = 8.0
PAUSED_ENV = {
    "NETFLEET_WORKER__LEASE_SECONDS": str(LEASE_S),
    "NETFLEET_WORKER__HEARTBEAT_SECONDS": "0.5",
}


async def counted(store: SqlStore) -> dict[str, int]:
    """Sessions the store counts per device name (running tasks plus holds)."""

    def op(conn: sa.Connection) -> dict[str, int]:
        rows = conn.execute(
            sa.text(
                "SELECT d.name, s.running FROM device_slots s JOIN devices d ON d.id = s.device_id"
            )
        ).all()
        return {name: int(n) for name, n in rows}

    return await store.db.run(op, write=False)


async def store_now(store: SqlStore) -> float:
    return await store.db.run(lambda c: store.db.clock(c), write=False)


@pytest.mark.parametrize("db", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def test_paused_worker_leaves_no_phantom_holds(
    db: str, tmp_path: Path, request: pytest.FixtureRequest, fleet_factory: list[Fleet]
) -> None:
    url = (
        f"sqlite:///{tmp_path / 'netfleet.db'}"
        if db == "sqlite"
        else request.getfixturevalue("pg_url")
    )
    async with Simulator(devices=4, platforms=["cisco_ios"], latency_ms=5) as sim:
        sim.write_inventory(tmp_path / "inv.yaml")
        store = await open_test_store(url)
        fleet = Fleet(url, tmp_path, PAUSED_ENV)
        fleet_factory.append(fleet)
        try:
            names = [s.name for s in await import_sim_devices(store, tmp_path / "inv.yaml")]
            worker = fleet.start("paused")
            await running(store, worker, timeout=180)  # start-up has its own bound (imports)
            job = await submit(store, names, commands=["show clock"])

            async def done() -> bool:
                return (await store.jobs.get(job.id, tasks=False)).finished

            await eventually(done, timeout=30, what="the first job ran")
            open_at_device = {d.name: d.stats.sessions_open for d in sim.devices}
            assert open_at_device == dict.fromkeys(names, 1)  # idle sessions kept
            assert await counted(store) == open_at_device

            # Pause past half a lease (the worker stops trusting its holds) but not
            # past the lease (the store still counts them): measured by the store's clock.
            paused_at = await store_now(store)
            worker.signal(signal.SIGSTOP)

            async def past_half_lease() -> bool:
                return await store_now(store) >= paused_at + LEASE_S * 0.6

            await eventually(past_half_lease, timeout=30, what="half a lease passed")
            worker.signal(signal.SIGCONT)
            await eventually(
                logged(worker, "session holds may have expired"),
                timeout=30,
                what="the worker noticed the gap",
            )

            async def exact() -> bool:
                at_device = {d.name: d.stats.sessions_open for d in sim.devices}
                return await counted(store) == at_device and sum(at_device.values()) == 0

            await eventually(exact, timeout=30, what="store count equals device sessions")
            # The devices are usable again: a job on all of them runs to the end.
            second = await submit(store, names, commands=["show version"])

            async def second_done() -> bool:
                return (await store.jobs.get(second.id, tasks=False)).finished

            await eventually(second_done, timeout=30, what="a job after the pause ran")
            assert (await store.jobs.get(second.id, tasks=False)).state == "succeeded"
            at_device = {d.name: d.stats.sessions_open for d in sim.devices}
            await eventually(
                lambda: _equal(store, sim), timeout=30, what="counts equal after the job"
            )
            assert sum(at_device.values()) <= len(names)
            await worker.terminate()
        finally:
            await store.close()


async def _equal(store: SqlStore, sim: Simulator) -> bool:
    return await counted(store) == {d.name: d.stats.sessions_open for d in sim.devices}

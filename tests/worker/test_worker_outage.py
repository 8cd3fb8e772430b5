"""A database outage (PostgreSQL traffic frozen) while an attempt finishes: the device
never sees more sessions than its limit, and the store counts what is open.

The worker's hold fence fires after half a lease without a heartbeat; an attempt
finishing after that must not keep its session as a hold: the store frees the task's
slot when its lease ends, and another worker then opens a session of its own.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
import sqlalchemy as sa

from netfleet.store import SqlStore
from netfleet_sim import Simulator
from tests.support.tcp_gate import TcpGate
from tests.support.worker import (
    Fleet,
    eventually,
    import_sim_devices,
    open_test_store,
    running,
    submit,
    task_rows_async,
)

LIMIT = 1
"""The device's session limit: the frozen attempt's session is its only one."""
LEASE_S = 8.0
HEARTBEAT_S = 0.3
OUTAGE_ENV = {
    "NETFLEET_WORKER__LEASE_SECONDS": str(LEASE_S),
    "NETFLEET_WORKER__HEARTBEAT_SECONDS": str(HEARTBEAT_S),
    "NETFLEET_WORKER__CONCURRENCY": "2",
}
SLOW_MS = 5000
"""The frozen attempt's last command: it answers after the hold fence (half a lease
less a margin: 3.2 s) and well before the task's own fence (lease less a margin: 7.2 s)."""


def through(url: str, port: int) -> str:
    """``url`` with its port replaced by ``port`` (the gate's)."""
    parts = urlsplit(url)
    netloc = parts.netloc.rsplit(":", 1)[0] + f":{port}"
    return urlunsplit(parts._replace(netloc=netloc))


async def counted(store: SqlStore) -> int:
    """Sessions the store counts on the (only) device: running tasks plus holds."""

    def op(conn: sa.Connection) -> int:
        return int(
            conn.execute(sa.text("SELECT COALESCE(SUM(running), 0) FROM device_slots")).one()[0]
        )

    return await store.db.run(op, write=False)


async def finished(store: SqlStore, job_id: int) -> bool:
    return (await store.jobs.get(job_id, tasks=False)).finished


@pytest.mark.postgres
@pytest.mark.slow
async def test_an_attempt_finishing_during_an_outage_does_not_keep_its_session(
    tmp_path: Path, pg_url: str, fleet_factory: list[Fleet]
) -> None:
    async with (
        Simulator(devices=1, platforms=["cisco_ios"]) as sim,
        TcpGate(urlsplit(pg_url).port or 5432) as gate,
    ):
        sim.write_inventory(tmp_path / "inv.yaml")
        store = await open_test_store(pg_url)
        gated = Fleet(through(pg_url, gate.port), tmp_path, OUTAGE_ENV)
        direct = Fleet(pg_url, tmp_path, OUTAGE_ENV)
        fleet_factory.extend([gated, direct])
        device = sim.devices[0]
        try:
            (spec,) = await import_sim_devices(store, tmp_path / "inv.yaml", max_sessions=LIMIT)
            first = gated.start("gated")
            await running(store, first)
            # A warm session: the frozen attempt reuses it (no slow login lines).
            warm = await submit(store, [spec.name], commands=["show clock"])
            await eventually(lambda: finished(store, warm.id), timeout=30, what="warm-up")
            device.set_faults(latency_ms=SLOW_MS)
            slow = await submit(store, [spec.name], commands=["show version"])

            async def sent() -> bool:
                return device.stats.line_counts.get("show version", 0) >= 1

            await eventually(sent, timeout=30, what="the slow command sent")
            gate.pause()  # the database is gone for the gated worker, mid-command
            device.clear_faults()
            second = direct.start("direct")
            later = [await submit(store, [spec.name], commands=["show clock"]) for _ in range(3)]
            # The gated worker's leases end in the store; the direct worker takes over.
            for job in later:
                await eventually(
                    lambda job=job: finished(store, job.id),  # type: ignore[misc]
                    timeout=60,
                    what="the direct worker ran a job",
                )
            assert gate.paused
            gate.resume()
            await eventually(lambda: finished(store, slow.id), timeout=60, what="the slow job")
            await running(store, first, second)
            peak = device.stats.peak_sessions
            assert peak <= LIMIT, f"{peak} sessions on a device limited to {LIMIT}"

            async def matches() -> bool:
                return await counted(store) == device.stats.sessions_open

            await eventually(matches, timeout=3 * HEARTBEAT_S + 1, what="the store's count")
            assert device.stats.peak_sessions <= LIMIT
            rows = await task_rows_async(pg_url)
            assert all(r["state"] == "succeeded" for r in rows), rows
        finally:
            gate.resume()
            for worker in [*gated.live(), *direct.live()]:
                worker.signal(15)
            await asyncio.gather(
                *(w.wait_exit(20) for w in [*gated.workers, *direct.workers]),
                return_exceptions=True,
            )
            await store.close()

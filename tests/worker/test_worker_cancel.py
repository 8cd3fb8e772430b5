"""Cancelling a queued task and a running (hung) task through the store, with a real worker."""

from __future__ import annotations

from pathlib import Path

from netfleet_sim import Simulator
from tests.support.worker import (
    STEADY_LEASE_ENV,
    Fleet,
    eventually,
    import_sim_devices,
    open_test_store,
    running,
    sessions_closed,
    submit,
)


async def test_cancel_queued_and_running_tasks(
    tmp_path: Path, sqlite_url: str, fleet_factory: list[Fleet]
) -> None:
    async with Simulator(devices=1, platforms=["cisco_ios"]) as sim:
        sim.write_inventory(tmp_path / "inv.yaml")
        device = sim.devices[0]
        device.set_faults(hang_on="show clock")  # never answers, until cancelled
        store = await open_test_store(sqlite_url)
        # No lease may expire here: a worker starved of CPU past a short lease has its
        # task handed back, and the exclusive job then runs before it is cancelled.
        fleet = Fleet(
            sqlite_url, tmp_path, {**STEADY_LEASE_ENV, "NETFLEET_WORKER__TIMEOUT_SECONDS": "60"}
        )
        fleet_factory.append(fleet)
        try:
            names = [s.name for s in await import_sim_devices(store, tmp_path / "inv.yaml")]
            hung = await submit(store, names, commands=["show version", "show clock"])
            # A config job is exclusive: it stays queued while the hung task holds the device.
            waiting = await submit(store, names, config=["interface Loopback9"])
            worker = fleet.start("cancel")
            await running(store, worker)  # the bounds below are on the work, not on imports

            async def hanging() -> bool:
                job = await store.jobs.get(hung.id, tasks=True, outputs=False)
                assert job.tasks is not None
                return job.tasks[0].state == "running" and "show clock" in device.stats.commands

            await eventually(hanging, timeout=20, what="the task hangs on 'show clock'")
            assert device.stats.sessions_open == 1

            queued = await store.jobs.cancel(waiting.id)
            assert queued.state == "cancelled"
            record = await store.jobs.get(waiting.id, tasks=True, outputs=False)
            assert record.tasks is not None
            assert record.tasks[0].state == "cancelled"
            assert record.tasks[0].attempt == 0  # never ran

            await store.jobs.cancel(hung.id)

            async def cancelled() -> bool:
                job = await store.jobs.get(hung.id, tasks=True, outputs=False)
                return job.state == "cancelled"

            await eventually(cancelled, timeout=20, what="the running task is cancelled")
            # Its session was discarded (a CLI stuck mid-command is never reused) ...
            await eventually(sessions_closed(sim), timeout=10, what="the hung session is closed")
            kinds = [e.kind for e in await store.jobs.events(hung.id)]
            assert kinds.count("cancelled") == 1, kinds

            # ... and its slot freed: the device takes new work at once.
            device.clear_faults()
            after = await submit(store, names, commands=["show version"])

            async def done() -> bool:
                return (await store.jobs.get(after.id, tasks=False)).finished

            await eventually(done, timeout=20, what="a task after the cancel finishes")
            final = await store.jobs.get(after.id, tasks=True, outputs=True)
            assert final.state == "succeeded", final
            assert worker.alive
            await worker.terminate()
            assert "cancel requested" in worker.log()
        finally:
            await store.close()

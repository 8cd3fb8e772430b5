"""Several worker processes never exceed a device's session limit nor break exclusivity,
with sessions kept open between tasks (connection reuse, the default).

Checked from the simulator's side: the peak number of SSH sessions each device saw.
Idle pooled sessions count against ``max_sessions`` (the store's session holds).
"""

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
    running,
    submit,
    task_rows_async,
)


@pytest.mark.postgres
async def test_workers_respect_max_sessions_and_exclusivity(
    tmp_path: Path, pg_url: str, fleet_factory: list[Fleet]
) -> None:
    # The simulated devices accept 8 sessions; netfleet is told to use at most 2.
    async with Simulator(devices=5, platforms=["cisco_ios"], latency_ms=20, max_sessions=8) as sim:
        sim.write_inventory(tmp_path / "inv.yaml")
        store = await open_test_store(pg_url)
        fleet = Fleet(pg_url, tmp_path, {**STEADY_LEASE_ENV, "NETFLEET_WORKER__CONCURRENCY": "6"})
        fleet_factory.append(fleet)
        try:
            names = [s.name for s in await import_sim_devices(store, tmp_path / "inv.yaml")]
            config_devices, show_devices = names[:2], names[2:]
            jobs = []
            for i in range(16):
                jobs.append(await submit(store, show_devices, commands=["show clock"] * 2))
                jobs.append(await submit(store, show_devices, commands=["show version"]))
                if i % 2 == 0:
                    jobs.append(
                        await submit(
                            store,
                            config_devices,
                            config=["interface Loopback7", f"description change {i}"],
                        )
                    )
            workers = [fleet.start("limits") for _ in range(3)]
            # Start-up (Python importing netfleet) took 50-70 s at load 25: bounded on its
            # own, so the bound on the work below measures the work, not the imports.
            await running(store, *workers, timeout=180)

            async def all_finished() -> bool:
                rows = await task_rows_async(pg_url)
                return all(r["state"] in ("succeeded", "failed", "cancelled") for r in rows)

            await eventually(all_finished, timeout=60, what="every task finished", interval=0.1)
            for job in jobs:
                record = await store.jobs.get(job.id, tasks=True, outputs=False)
                assert record.state == "succeeded", record

            stats = {d.name: d.stats for d in sim.devices}
            peaks = {name: s.peak_sessions for name, s in stats.items()}
            for name in config_devices:  # config jobs are exclusive: one session at a time
                assert peaks[name] == 1, peaks
            for name in show_devices:  # never over max_sessions, idle sessions included
                assert peaks[name] <= 2, peaks
            assert max(peaks[name] for name in show_devices) == 2, peaks  # the limit was hit
            # Sessions were reused: far fewer logins than tasks on every device.
            for name in show_devices:
                assert stats[name].logins < 32 // 2, (name, stats[name].logins)
            for name in config_devices:
                assert stats[name].logins < 8, (name, stats[name].logins)
        finally:
            for worker in fleet.live():
                worker.signal(15)
            await store.close()

"""A per-second schedule fired in real time by ``netfleet worker`` (its built-in scheduler),
the jobs run over SSH on the simulator."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
from pathlib import Path

from cryptography.fernet import Fernet

from netfleet.core.inventory import load_inventory
from netfleet.core.settings import Settings
from netfleet.jobs.schedule import build_schedule
from netfleet.store import open_store
from netfleet.store.records import JobFilter
from netfleet_sim import Simulator
from tests.support.schedules import start_worker

SECRET_KEY = Fernet.generate_key().decode()


async def test_per_second_schedule_runs_on_the_simulator_through_a_worker(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'netfleet.db'}"
    async with Simulator(devices=1, platforms=["cisco_ios"]) as sim:
        sim.write_inventory(tmp_path / "inv.yaml")
        store = await open_store(url, settings=Settings(secret_key=SECRET_KEY))
        log_path = tmp_path / "worker.log"
        worker: subprocess.Popen[bytes] | None = None
        try:
            report = await store.devices.import_many(load_inventory(tmp_path / "inv.yaml").devices)
            assert report.ok, report
            device = sim.devices[0].name
            schedule = await store.schedules.create(
                build_schedule(
                    name="every-second",
                    cron="* * * * * *",
                    job_template={"targets": {"devices": [device]}, "commands": ["show version"]},
                ),
            )
            env = {
                **os.environ,
                "NETFLEET_SECRET_KEY": SECRET_KEY,
                "NETFLEET_CONFIG": str(tmp_path / "absent.toml"),
                "NETFLEET_CONNECT__KNOWN_HOSTS": str(tmp_path / "known_hosts"),
                "NETFLEET_WORKER__POLL_SECONDS": "0.1",
            }
            worker = start_worker(url, env, log_path)
            succeeded: list[float] = []
            for _ in range(300):
                page = await store.jobs.list(JobFilter(schedule_id=schedule.id), limit=100)
                succeeded = sorted(
                    j.fire_time for j in page.items if j.state == "succeeded" and j.fire_time
                )
                if len(succeeded) >= 3 or worker.poll() is not None:
                    break
                await asyncio.sleep(0.1)
            assert len(succeeded) >= 3, log_path.read_text(errors="replace")[-3000:]

            fired = list(await store.schedules.fired_times(schedule.id))
            assert fired == [fired[0] + i for i in range(len(fired))]  # every second, once
            page = await store.jobs.list(JobFilter(schedule_id=schedule.id), limit=100)
            first = min(page.items, key=lambda j: j.fire_time or 0)
            job = await store.jobs.get(first.id, tasks=True, outputs=True)
            assert job.state == "succeeded"
            assert job.tasks is not None
            (task,) = job.tasks
            assert "Cisco IOS" in task.last_outputs()[0].output
        finally:
            if worker is not None and worker.poll() is None:
                worker.send_signal(signal.SIGTERM)
                try:
                    await asyncio.to_thread(worker.wait, 20)
                except subprocess.TimeoutExpired:
                    worker.kill()
                    worker.wait()
            await store.close()

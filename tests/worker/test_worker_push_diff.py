"""``push_diff: backup`` through a real worker: the latest backup is the baseline of a
push, with a rollback snapshot too, and the device is not asked for its running
configuration (real SQLite store, real SSH to the simulator)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from netfleet.jobs.changes import change_summary
from netfleet.jobs.model import JobSpec
from netfleet.store import SqlStore
from netfleet_sim import Simulator
from tests.support.worker import eventually
from tests.worker.test_worker_runtime import Running

NTP = "ntp server 192.0.2.91"


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with Simulator(devices=1, platforms=["cisco_ios"]) as simulator:
        yield simulator


@pytest.mark.parametrize("push_diff", ["backup", "always"])
async def test_a_rollback_push_predicts_from_the_backup(
    tmp_path: Path, sim: Simulator, store: SqlStore, push_diff: str
) -> None:
    device = sim.devices[0]
    asked: list[str] = []

    async def baseline(name: str) -> str | None:
        asked.append(name)
        return "hostname r1\n!\nlogging buffered 64000\n!\nend\n"

    running = Running(store, tmp_path, baseline=baseline)
    try:
        spec = JobSpec.model_validate(
            {
                "targets": {"devices": [device.name]},
                "config": [NTP],
                "rollback": {},
                "options": {"push_diff": push_diff},
            }
        )
        job = await store.jobs.submit(spec)

        async def finished() -> bool:
            return (await store.jobs.get(job.id, tasks=False)).finished

        await eventually(finished, timeout=30, what="the push finishes")
    finally:
        await running.stop()
    done = await store.jobs.get(job.id)
    (task,) = done.tasks or ()
    assert task.state == "succeeded", task.error
    summary = change_summary(task.outputs)
    assert summary is not None
    assert summary["rolled_back"] is False
    if push_diff == "backup":
        assert asked == [device.name]
        assert (summary["diff_source"], summary["baseline"]) == ("predicted", "backup")
        assert "show running-config" not in device.stats.commands
    else:  # the default with a snapshot: the real diff, read before and after the push
        assert asked == []
        assert summary["diff_source"] == "running"
        assert device.stats.commands.count("show running-config") == 2
    assert NTP in (summary["diff"] or "")

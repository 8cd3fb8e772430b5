"""Contract under concurrency: many claimers on several stores never over-commit a device,
never run a task twice at once, and leave counters and slots consistent."""

from __future__ import annotations

import asyncio
import random
from collections import Counter

import sqlalchemy as sa

from netfleet.jobs.model import JobSpec, TaskCounts
from netfleet.store import SqlStore, open_store
from netfleet.store.records import ClaimedTask, TaskOutcome
from tests.support.store import KEY, config, device


async def test_concurrent_claimers_respect_slots_and_exclusivity(
    store: SqlStore, store_url: str
) -> None:
    limits = {f"d{i}": 1 + i % 3 for i in range(8)}
    for name, n in limits.items():
        await store.devices.upsert(device(name, max_sessions=n))
    names = list(limits)
    total = 0
    for i in range(12):
        spec = JobSpec.model_validate(
            {
                "targets": {"devices": names},
                "commands": ["show version"],
                "options": {"backoff_base_s": 0, "backoff_max_s": 0, "priority": i % 3},
            }
        )
        await store.jobs.submit(spec)
        total += len(names)
    for name in names[:3]:
        await store.jobs.submit(config(name, backoff_base_s=0, backoff_max_s=0))
        total += 1

    stores = [store] + [
        await open_store(store_url, secret_key=KEY, migrate=False) for _ in range(2)
    ]
    running: Counter[str] = Counter()
    exclusive: set[str] = set()
    active: set[int] = set()
    finished: list[int] = []
    rng = random.Random(7)

    def take(task: ClaimedTask) -> None:
        name = task.device.name
        assert task.task_id not in active, "a task was claimed twice at once"
        active.add(task.task_id)
        running[name] += 1
        assert running[name] <= limits[name], f"{name} over its max_sessions"
        assert name not in exclusive, f"{name} held exclusively"
        if task.exclusive:
            assert running[name] == 1
            exclusive.add(name)

    async def worker(st: SqlStore, wid: str) -> None:
        idle = 0
        while idle < 20:
            claimed = await st.claims.claim(wid, rng.randint(1, 6), lease_s=60)
            if not claimed:
                idle += 1
                await asyncio.sleep(0.002)
                continue
            idle = 0
            for task in claimed:
                take(task)
            await asyncio.sleep(0)
            for task in claimed:
                running[task.device.name] -= 1
                exclusive.discard(task.device.name)
                active.discard(task.task_id)
                failed = rng.random() < 0.2
                outcome = TaskOutcome("failed" if failed else "succeeded", transient=True)
                done = await st.completions.complete(task.task_id, wid, task.attempt, outcome)
                if done.state != "retrying":
                    finished.append(task.task_id)

    try:
        await asyncio.gather(*(worker(st, f"w{i}") for i, st in enumerate(stores * 2)))
    finally:
        for st in stores[1:]:
            await st.close()

    assert sorted(finished) == sorted(set(finished))
    assert len(finished) == total

    def check(conn: sa.Connection) -> None:
        assert conn.execute(sa.text("SELECT sum(running) FROM device_slots")).scalar() == 0
        rows = conn.execute(sa.text("SELECT job_id, state FROM tasks")).all()
        by_job: dict[int, list[str]] = {}
        for job_id, state in rows:
            by_job.setdefault(job_id, []).append(state)
        for job_id, states in by_job.items():
            job = conn.execute(
                sa.text(
                    "SELECT tasks_queued, tasks_running, tasks_succeeded, tasks_failed, "
                    "tasks_cancelled, tasks_retrying FROM jobs WHERE id = :id"
                ),
                {"id": job_id},
            ).one()
            assert TaskCounts(*job) == TaskCounts.of(states)

    await store.db.run(check, write=False)
    jobs = (await store.jobs.list(limit=100)).items
    assert all(j.finished for j in jobs)
    assert {j.state for j in jobs} <= {"succeeded", "partial", "failed"}

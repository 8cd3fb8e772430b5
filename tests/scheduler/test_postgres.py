"""Several schedulers on one PostgreSQL database: every firing creates exactly one job."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from netfleet.jobs.schedule import build_schedule
from netfleet.scheduler import run_scheduler
from netfleet.store import SqlStore, open_store
from netfleet.store.records import JobFilter
from netfleet.store.schema import jobs
from tests.support.schedules import KEY, Clock, template
from tests.support.store import add_devices

pytestmark = pytest.mark.postgres

SCHEDULERS = 3
SECONDS = 90


@pytest.fixture
async def pg_stores(pg_url: str) -> AsyncIterator[list[SqlStore]]:
    """One store per scheduler process: separate engines and connections."""
    first = await open_store(pg_url, secret_key=KEY)
    stores = [first] + [
        await open_store(pg_url, secret_key=KEY, migrate=False) for _ in range(SCHEDULERS - 1)
    ]
    try:
        yield stores
    finally:
        for st in stores:
            await st.close()


async def test_three_schedulers_fire_each_firing_exactly_once(pg_stores: list[SqlStore]) -> None:
    store = pg_stores[0]
    await add_devices(store, "r1", "r2")
    base = (datetime.now(UTC) + timedelta(days=1)).replace(microsecond=0)
    names = {"every-second": "* * * * * *", "every-2s": "*/2 * * * * *", "odd": "1-59/2 * * * * *"}
    schedules = [
        await store.schedules.create(
            build_schedule(name=name, cron=expr, job_template=template("r1", "r2"), start_at=base),
        )
        for name, expr in names.items()
    ]
    clock = Clock(base.timestamp() - 0.5)
    stop = asyncio.Event()
    loops = [
        asyncio.create_task(run_scheduler(st, stop, interval=0.02, grace_s=3600, now=clock))
        for st in pg_stores
    ]

    async def finish_jobs() -> None:  # stands in for the workers
        page = await store.jobs.list(JobFilter(states=("queued", "running")), limit=1000)
        for job in page.items:
            await store.jobs.cancel(job.id)

    end = base.timestamp() + SECONDS - 1
    try:
        while clock.value < end:
            clock.advance(1)
            await asyncio.sleep(0.02)
            await finish_jobs()
        for _ in range(500):  # let the schedulers catch up with the clock
            pending = [await store.schedules.get(s.id) for s in schedules]
            if all(
                p.next_fire_at is not None and p.next_fire_at.timestamp() > end for p in pending
            ):
                break
            await finish_jobs()
            await asyncio.sleep(0.02)
    finally:
        stop.set()
        await asyncio.gather(*loops)

    def count(conn: sa.Connection) -> Counter[tuple[int, float]]:
        rows = conn.execute(sa.select(jobs.c.schedule_id, jobs.c.fire_time))
        return Counter((int(r[0]), float(r[1])) for r in rows)

    per_firing = await store.db.run(count, write=False)
    assert set(per_firing.values()) == {1}  # no duplicate
    for s in schedules:
        expected = [
            t.timestamp()
            for t in [base + timedelta(seconds=i) for i in range(SECONDS)]
            if s.spec.cron is not None and _matches(s.spec.expression or "", t.second)
        ]
        assert sorted(t for (sid, t) in per_firing if sid == s.id) == expected  # none missed
    assert len(per_firing) == SECONDS + SECONDS // 2 + SECONDS // 2


def _matches(expr: str, second: int) -> bool:
    field = expr.split()[0]
    if field == "*":
        return True
    if field == "*/2":
        return second % 2 == 0
    return second % 2 == 1

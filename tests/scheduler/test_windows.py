"""The scheduler releases config jobs whose change window opened (controlled clock)."""

from __future__ import annotations

from datetime import UTC, datetime

from netfleet.jobs.gates import ChangePolicy
from netfleet.jobs.schedule import build_schedule
from netfleet.jobs.windows import WindowSpec
from netfleet.scheduler import Scheduler
from netfleet.store import SqlStore
from tests.support.store import config


class Clock:
    def __init__(self, t: float) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


async def test_a_tick_releases_jobs_once_their_window_opens(store: SqlStore) -> None:
    clock = Clock(datetime(2026, 12, 2, 12, tzinfo=UTC).timestamp())
    store.changes.policy = ChangePolicy(clock=clock)
    await store.changes.put_window(
        WindowSpec(name="nightly", cron="0 2 * * *", duration_minutes=60, timezone="Asia/Tokyo")
    )
    job = await store.jobs.submit(config("r1", "r2"))
    assert job.state == "awaiting_window"
    scheduler = Scheduler(store, now=clock)
    assert (await scheduler.tick()).window_released == 0
    assert await store.claims.claim("w1", 10, lease_s=30) == []
    clock.t = datetime(2026, 12, 2, 17, 30, tzinfo=UTC).timestamp()  # 02:30 in Tokyo
    assert (await scheduler.tick()).window_released == 1
    assert (await scheduler.tick()).window_released == 0
    assert len(await store.claims.claim("w1", 10, lease_s=30)) == 2


async def test_a_scheduled_config_job_respects_the_window(store: SqlStore) -> None:
    """A schedule fires on time; its config job then waits for the window."""
    base = datetime.now(UTC).replace(microsecond=0).timestamp() + 86_400
    clock = Clock(base + 30)
    store.changes.policy = ChangePolicy(clock=clock)
    await store.changes.put_window(
        WindowSpec(
            name="later",
            start=datetime.fromtimestamp(base + 3600, UTC),
            end=datetime.fromtimestamp(base + 7200, UTC),
        )
    )
    schedule = build_schedule(
        name="push",
        at=datetime.fromtimestamp(base + 10, UTC),
        job_template={"targets": {"devices": ["r1"]}, "config": ["hostname x"]},
    )
    await store.schedules.create(schedule)
    scheduler = Scheduler(store, now=clock)
    report = await scheduler.tick()
    assert report.created == 1
    (job,) = (await store.jobs.list()).items
    assert job.state == "awaiting_window"
    assert "'later'" in (await store.changes.gate(job.id)).reason
    clock.t = base + 3700
    assert (await scheduler.tick()).window_released == 1

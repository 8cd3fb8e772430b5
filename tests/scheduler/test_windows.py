"""The scheduler releases config jobs whose change window opened (controlled clock)."""

from __future__ import annotations

from datetime import UTC, datetime

from netfleet.jobs.gates import ChangePolicy
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

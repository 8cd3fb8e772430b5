"""The scheduler loop on a real SQLite store: misfire policies, overlap, one-time, end,
pause, daylight saving, and a per-second schedule firing in real time."""

from __future__ import annotations

import asyncio
import calendar
import itertools
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from netfleet.jobs.schedule import Schedule, build_schedule
from netfleet.scheduler import Scheduler, run_scheduler
from netfleet.store import SqlStore
from netfleet.store.records import JobFilter
from tests.support.schedules import Clock, template


def _base() -> float:
    """A whole hour a day ahead of the real clock: schedules start there (``start_at``)."""
    now = datetime.now(UTC) + timedelta(days=1)
    return now.replace(minute=0, second=0, microsecond=0).timestamp()


async def _schedule(store: SqlStore, start: float, **kwargs: Any) -> Schedule:
    args: dict[str, Any] = {
        "name": "s",
        "cron": "* * * * *",
        "job_template": template(),
        "start_at": datetime.fromtimestamp(start, UTC),
    } | kwargs
    return await store.schedules.create(build_schedule(**args))


async def _finish_jobs(store: SqlStore) -> None:
    """Finish every unfinished job (cancel: its queued tasks end), like a fast worker."""
    page = await store.jobs.list(JobFilter(states=("queued", "running")), limit=1000)
    for job in page.items:
        await store.jobs.cancel(job.id)


async def _fired(store: SqlStore, schedule: Schedule, base: float) -> list[float]:
    """Fire times with a job, as offsets from ``base``."""
    return [t - base for t in await store.schedules.fired_times(schedule.id)]


async def _drain(scheduler: Scheduler, store: SqlStore, rounds: int = 50) -> None:
    """Tick (finishing jobs in between) until nothing is due any more."""
    for _ in range(rounds):
        report = await scheduler.tick()
        if report.due == 0:
            return
        await _finish_jobs(store)
    raise AssertionError("schedule still due after many rounds")


# --- misfire policies after scheduler downtime ---------------------------------------


async def test_skip_runs_only_the_on_time_firing_after_downtime(store: SqlStore) -> None:
    base = _base()
    s = await _schedule(store, base, misfire_policy="skip")
    clock = Clock(base + 600 + 5)  # down for 10 minutes; the 10th-minute firing is on time
    report = await Scheduler(store, now=clock, grace_s=30).tick()
    assert (report.created, report.skipped) == (1, 10)
    assert await _fired(store, s, base) == [600]
    assert (await store.schedules.get(s.id)).next_fire_at == datetime.fromtimestamp(base + 660, UTC)


async def test_skip_runs_nothing_when_every_firing_was_missed(store: SqlStore) -> None:
    base = _base()
    s = await _schedule(store, base, misfire_policy="skip")
    await _drain(Scheduler(store, now=Clock(base + 580), grace_s=30), store)
    assert await _fired(store, s, base) == []


async def test_run_latest_runs_the_latest_missed_firing_once(store: SqlStore) -> None:
    base = _base()
    s = await _schedule(store, base, misfire_policy="run_latest")
    await _drain(Scheduler(store, now=Clock(base + 580), grace_s=30), store)
    assert await _fired(store, s, base) == [540]


@pytest.mark.parametrize("overlap", ["queue", "skip"])
async def test_backfill_runs_every_missed_firing_within_the_window(
    store: SqlStore, overlap: str
) -> None:
    base = _base()
    s = await _schedule(
        store, base, misfire_policy="backfill", misfire_window_s=300, overlap=overlap
    )
    await _drain(Scheduler(store, now=Clock(base + 580), grace_s=30), store)
    fired = await _fired(store, s, base)
    if overlap == "queue":  # one at a time, each after the previous finished
        assert fired == [300, 360, 420, 480, 540]
    else:  # the others would overlap the first one's job
        assert fired == [300]


# --- overlap control ---------------------------------------------------------------


async def test_overlap_skip_drops_firings_while_the_previous_job_runs(store: SqlStore) -> None:
    base = _base()
    s = await _schedule(store, base, overlap="skip")
    clock = Clock(base + 1)
    scheduler = Scheduler(store, now=clock)
    assert (await scheduler.tick()).created == 1  # base
    clock.advance(60)
    report = await scheduler.tick()  # base+60: previous unfinished
    assert (report.created, report.skipped) == (0, 1)
    await _finish_jobs(store)
    clock.advance(60)
    assert (await scheduler.tick()).created == 1  # base+120
    assert await _fired(store, s, base) == [0, 120]


async def test_overlap_queue_holds_the_firing_until_the_previous_job_finished(
    store: SqlStore,
) -> None:
    base = _base()
    s = await _schedule(store, base, overlap="queue")
    clock = Clock(base + 1)
    scheduler = Scheduler(store, now=clock)
    assert (await scheduler.tick()).created == 1
    clock.advance(60)
    assert (await scheduler.tick()).created == 0  # held: not even due
    clock.advance(10)
    assert (await scheduler.tick()).created == 0
    assert (await store.schedules.get(s.id)).next_fire_at == datetime.fromtimestamp(base + 60, UTC)
    await _finish_jobs(store)
    assert (await scheduler.tick()).created == 1  # the held base+60, 11 s late
    assert await _fired(store, s, base) == [0, 60]


# --- one-time, end, pause ----------------------------------------------------------


async def test_one_time_schedule_fires_once_then_finishes(store: SqlStore) -> None:
    base = _base()
    s = await store.schedules.create(
        build_schedule(
            name="once", at=datetime.fromtimestamp(base + 30, UTC), job_template=template("r2")
        ),
    )
    clock = Clock(base + 29)
    scheduler = Scheduler(store, now=clock)
    assert (await scheduler.tick()).due == 0
    clock.advance(2)
    assert (await scheduler.tick()).created == 1
    clock.advance(3600)
    assert (await scheduler.tick()).due == 0
    assert (await store.schedules.get(s.id)).finished
    assert await _fired(store, s, base) == [30]
    (job,) = (await store.jobs.list(JobFilter(schedule_id=s.id))).items
    assert job.spec.targets.devices == ["r2"]
    assert job.fire_time == base + 30


async def test_end_at_stops_a_cron_schedule(store: SqlStore) -> None:
    base = _base()
    s = await _schedule(store, base, end_at=datetime.fromtimestamp(base + 120, UTC))
    clock = Clock(base + 1)
    scheduler = Scheduler(store, now=clock)
    for _ in range(5):
        await scheduler.tick()
        await _finish_jobs(store)
        clock.advance(60)
    assert await _fired(store, s, base) == [0, 60, 120]
    assert (await store.schedules.get(s.id)).finished


async def test_paused_schedule_does_not_fire(store: SqlStore) -> None:
    base = _base()
    s = await _schedule(store, base)
    await store.schedules.set_enabled(s.id, False)
    assert (await Scheduler(store, now=Clock(base + 5)).tick()).due == 0
    await store.schedules.set_enabled(s.id, True)
    assert (await Scheduler(store, now=Clock(base + 5)).tick()).created == 1


# --- daylight saving through the loop and the store -----------------------------------


def _sunday(year: int, month: int, nth: int) -> int:
    """Day of the month of the nth Sunday (-1: the last)."""
    sundays = [
        week[calendar.SUNDAY]
        for week in calendar.monthcalendar(year, month)
        if week[calendar.SUNDAY]
    ]
    return sundays[nth if nth < 0 else nth - 1]


def _transitions(zone: str) -> tuple[datetime, datetime]:
    """Next year's spring-forward and fall-back dates (computed, so the test never ages)."""
    year = datetime.now(UTC).year + 1
    if zone == "Europe/Berlin":
        return (
            datetime(year, 3, _sunday(year, 3, -1)),
            datetime(year, 10, _sunday(year, 10, -1)),
        )
    return datetime(year, 3, _sunday(year, 3, 2)), datetime(year, 11, _sunday(year, 11, 1))


@pytest.mark.parametrize(
    ("zone", "daily", "spring_local", "fall_local"),
    [
        ("Europe/Berlin", "30 2 * * *", "03:00", "02:30"),
        ("America/New_York", "30 2 * * *", "03:00", "02:30"),
        ("America/New_York", "30 1 * * *", "01:30", "01:30"),
    ],
)
async def test_daily_schedule_fires_once_per_day_across_transitions(
    store: SqlStore, zone: str, daily: str, spring_local: str, fall_local: str
) -> None:
    tz = ZoneInfo(zone)
    for n, day in enumerate(_transitions(zone)):
        start = (day - timedelta(days=1)).replace(tzinfo=tz)
        s = await store.schedules.create(
            build_schedule(
                name=f"{zone}-{daily}-{n}",
                cron=daily,
                timezone=zone,
                job_template=template(),
                start_at=start,
            ),
        )
        clock = Clock(start.timestamp())
        scheduler = Scheduler(store, now=clock, grace_s=3600)
        while clock.value < start.timestamp() + 3 * 86400:
            clock.advance(1800)
            await scheduler.tick()
            await _finish_jobs(store)
        fired = [
            datetime.fromtimestamp(t, UTC).astimezone(tz)
            for t in await store.schedules.fired_times(s.id)
        ]
        assert [f.date() for f in fired] == [(day + timedelta(days=d)).date() for d in (-1, 0, 1)]
        expected = spring_local if n == 0 else fall_local
        assert fired[1].strftime("%H:%M") == expected
        assert fired[1].fold == 0


# --- real time -----------------------------------------------------------------------


async def test_per_second_schedule_fires_every_second_in_real_time(store: SqlStore) -> None:
    """Loop + store on the real clock; a finisher stands in for a worker."""
    s = await store.schedules.create(
        build_schedule(name="tick", cron="* * * * * *", job_template=template())
    )
    stop = asyncio.Event()

    async def finisher() -> None:
        while not stop.is_set():
            await _finish_jobs(store)
            await asyncio.sleep(0.05)

    tasks = [
        asyncio.create_task(run_scheduler(store, stop, interval=0.5)),
        asyncio.create_task(finisher()),
    ]
    try:
        for _ in range(200):
            if len(await store.schedules.fired_times(s.id)) >= 4:
                break
            await asyncio.sleep(0.05)
    finally:
        stop.set()
        await asyncio.gather(*tasks)
    fired = list(await store.schedules.fired_times(s.id))
    assert len(fired) >= 4
    assert all(t == int(t) for t in fired)
    assert [b - a for a, b in itertools.pairwise(fired)] == [1.0] * (len(fired) - 1)


# --- skipped firings are visible ----------------------------------------------------


async def test_skipped_firings_are_counted_and_logged_at_warning_with_the_reason(
    store: SqlStore,
) -> None:
    from structlog.testing import capture_logs

    base = _base()
    await _schedule(store, base, misfire_policy="skip", overlap="skip")
    clock = Clock(base + 600 + 5)  # down for 10 minutes: 10 missed firings
    scheduler = Scheduler(store, now=clock, grace_s=30)
    with capture_logs() as logs:
        report = await scheduler.tick()  # fires base+600
        clock.advance(60)
        second = await scheduler.tick()  # base+660 overlaps the unfinished job
    assert report.skipped_by_reason == {"misfire": 10}
    assert second.skipped_by_reason == {"overlap": 1}
    assert scheduler.skipped_total == {"misfire": 10, "overlap": 1}
    skips = [e for e in logs if e["event"] == "schedule firings skipped"]
    assert [(e["log_level"], e["reason"], e["count"]) for e in skips] == [
        ("warning", "misfire", 10),
        ("warning", "overlap", 1),
    ]
    # Counted in the database too, per schedule: ``/metrics`` of any process shows them.
    snapshot = await store.metrics.queue_snapshot()
    assert snapshot.schedule_skips == {("s", "misfire"): 10, ("s", "overlap"): 1}

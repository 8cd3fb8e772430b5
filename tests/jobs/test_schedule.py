"""The pure firing rules: misfire plans, batches, one-time schedules, overlap decisions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from netfleet.jobs.schedule import (
    FiringPlan,
    ScheduleSpec,
    apply_overlap,
    build_schedule,
    plan_firings,
)
from tests.support.schedules import template

T0 = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)


def _cron(expr: str = "* * * * *", **kwargs: Any) -> ScheduleSpec:
    return build_schedule(
        name="p", cron=expr, job_template=template(), now=T0 - timedelta(days=1), **kwargs
    )


def _once(policy: str) -> ScheduleSpec:
    return build_schedule(
        name="o",
        at=T0,
        job_template=template(),
        misfire_policy=policy,
        misfire_window_s=600,
        now=T0 - timedelta(days=1),
    )


def _minutes(plan: FiringPlan) -> list[float]:
    return [(f - T0).total_seconds() / 60 for f in plan.fire_times]


def test_nothing_due_yet() -> None:
    plan = plan_firings(_cron(), T0, T0 - timedelta(seconds=1))
    assert plan == FiringPlan((), 0, T0)


def test_on_time_firings_all_run_and_next_is_in_the_future() -> None:
    plan = plan_firings(_cron(), T0, T0 + timedelta(minutes=2, seconds=10), grace_s=600)
    assert _minutes(plan) == [0, 1, 2]
    assert plan.next_fire_at == T0 + timedelta(minutes=3)


def test_backfill_is_batched_and_resumes_where_it_stopped() -> None:
    spec = _cron(misfire_policy="backfill", misfire_window_s=3600)
    now = T0 + timedelta(minutes=30, seconds=1)
    first = plan_firings(spec, T0, now, limit=10)
    assert _minutes(first) == list(range(10))
    assert first.next_fire_at == T0 + timedelta(minutes=10)
    assert first.next_fire_at is not None
    rest = plan_firings(spec, first.next_fire_at, now, limit=100)
    assert _minutes(rest) == list(range(10, 31))


def test_skipped_count_and_run_latest_with_an_hourly_schedule() -> None:
    spec = _cron("0 * * * *", misfire_policy="run_latest")
    plan = plan_firings(spec, T0, T0 + timedelta(days=2, minutes=5), grace_s=60)
    assert plan.fire_times == (T0 + timedelta(days=2),)
    assert plan.skipped == 48
    assert plan.next_fire_at == T0 + timedelta(days=2, hours=1)


@pytest.mark.parametrize(("policy", "runs"), [("skip", 0), ("run_latest", 1), ("backfill", 1)])
def test_missed_one_time_schedule(policy: str, runs: int) -> None:
    plan = plan_firings(_once(policy), T0, T0 + timedelta(minutes=5), grace_s=30)
    assert len(plan.fire_times) == runs
    assert plan.next_fire_at is None  # finished either way
    assert plan.skipped == 1 - runs


def test_end_at_finishes_the_schedule() -> None:
    spec = _cron(end_at=T0 + timedelta(minutes=1))
    plan = plan_firings(spec, T0, T0 + timedelta(minutes=1, seconds=5), grace_s=600)
    assert _minutes(plan) == [0, 1]
    assert plan.next_fire_at is None


def test_overlap_decisions() -> None:
    fires = (T0, T0 + timedelta(minutes=1), T0 + timedelta(minutes=2))
    plan = FiringPlan(fires, 0, T0 + timedelta(minutes=3))
    queued = apply_overlap(plan, "queue", busy=False)
    assert (queued.fire_times, queued.next_fire_at) == (fires[:1], fires[1])
    skipped = apply_overlap(plan, "skip", busy=False)
    assert (skipped.fire_times, skipped.skipped) == (fires[:1], 2)
    assert skipped.next_fire_at == T0 + timedelta(minutes=3)
    assert apply_overlap(plan, "queue", busy=True).held
    dropped = apply_overlap(plan, "skip", busy=True)
    assert (dropped.fire_times, dropped.skipped) == ((), 3)

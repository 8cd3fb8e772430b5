"""Cron parsing, previews and daylight-saving behaviour in two time zones."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from netfleet.core.errors import ScheduleError
from netfleet.jobs.cron import parse_cron, preview

BERLIN = "Europe/Berlin"
NEW_YORK = "America/New_York"
# 2026 transitions: Berlin 29 Mar (02:00 -> 03:00) and 25 Oct (03:00 -> 02:00);
# New York 8 Mar (02:00 -> 03:00) and 1 Nov (02:00 -> 01:00).
SPRING = {BERLIN: datetime(2026, 3, 29), NEW_YORK: datetime(2026, 3, 8)}
FALL = {BERLIN: datetime(2026, 10, 25), NEW_YORK: datetime(2026, 11, 1)}


def _fires_on(expr: str, tz: str, day: datetime) -> list[datetime]:
    """Fire times whose local date is ``day``."""
    zone = ZoneInfo(tz)
    start = (day - timedelta(days=1)).replace(tzinfo=zone)
    # In UTC: Python subtracts and compares datetimes sharing a tzinfo by wall time.
    return [
        f.astimezone(UTC)
        for f in preview(expr, tz, 200, after=start)
        if f.astimezone(zone).date() == day.date()
    ]


@pytest.mark.parametrize("tz", [BERLIN, NEW_YORK])
@pytest.mark.parametrize("expr", ["30 2 * * *", "0 30 2 * * *"])
def test_daily_time_in_the_spring_gap_fires_once_at_the_end_of_the_gap(tz: str, expr: str) -> None:
    fires = _fires_on(expr, tz, SPRING[tz])
    assert len(fires) == 1
    local = fires[0].astimezone(ZoneInfo(tz))
    assert (local.hour, local.minute) == (3, 0)
    # The day before and after: the normal 02:30.
    for offset in (-1, 1):
        (other,) = _fires_on(expr, tz, SPRING[tz] + timedelta(days=offset))
        assert other.astimezone(ZoneInfo(tz)).strftime("%H:%M") == "02:30"


@pytest.mark.parametrize(("tz", "repeated"), [(BERLIN, "30 2 * * *"), (NEW_YORK, "30 1 * * *")])
def test_daily_time_in_the_repeated_hour_fires_once_on_fall_back(tz: str, repeated: str) -> None:
    fires = _fires_on(repeated, tz, FALL[tz])
    assert len(fires) == 1
    local = fires[0].astimezone(ZoneInfo(tz))
    assert local.fold == 0  # the first of the two occurrences
    # Seconds form too.
    assert _fires_on("0 " + repeated, tz, FALL[tz]) == fires


@pytest.mark.parametrize("tz", [BERLIN, NEW_YORK])
def test_interval_schedules_keep_elapsed_time_rhythm_across_transitions(tz: str) -> None:
    for day, hours in ((SPRING[tz], 23), (FALL[tz], 25)):
        fires = _fires_on("0 * * * *", tz, day)
        assert len(fires) == hours
        gaps = {b - a for a, b in itertools.pairwise(fires)}
        assert gaps == {timedelta(hours=1)}
        quarter = _fires_on("*/15 * * * *", tz, day)
        assert len(quarter) == hours * 4


def test_macros_and_seconds_field() -> None:
    after = datetime(2026, 1, 1, 0, 0, 30, tzinfo=UTC)
    assert preview("@hourly", "UTC", 2, after) == [
        datetime(2026, 1, 1, 1, tzinfo=UTC),
        datetime(2026, 1, 1, 2, tzinfo=UTC),
    ]
    assert preview("@daily", "UTC", 1, after) == preview("@midnight", "UTC", 1, after)
    assert preview("@weekly", "UTC", 1, after)[0].weekday() == 6  # Sunday
    assert preview("@monthly", "UTC", 1, after)[0] == datetime(2026, 2, 1, tzinfo=UTC)
    assert preview("@yearly", "UTC", 1, after) == preview("@annually", "UTC", 1, after)
    assert preview("@yearly", "UTC", 1, after)[0] == datetime(2027, 1, 1, tzinfo=UTC)
    assert preview("*/20 * * * * *", "UTC", 3, after) == [
        datetime(2026, 1, 1, 0, 0, 40, tzinfo=UTC),
        datetime(2026, 1, 1, 0, 1, 0, tzinfo=UTC),
        datetime(2026, 1, 1, 0, 1, 20, tzinfo=UTC),
    ]
    assert parse_cron("0 0 * * *").has_seconds is False
    assert parse_cron("5 0 0 * * *").has_seconds is True


def test_preview_is_in_the_schedule_time_zone() -> None:
    after = datetime(2026, 6, 1, tzinfo=UTC)
    (fire,) = preview("0 9 * * MON-FRI", NEW_YORK, 1, after)
    assert fire.tzinfo == ZoneInfo(NEW_YORK)
    assert (fire.hour, fire.weekday()) == (9, 0)  # Monday 1 June 2026, 09:00 local
    assert fire.astimezone(UTC).hour == 13


@pytest.mark.parametrize(
    ("expr", "needle"),
    [
        ("61 * * * *", "field 1 (minute) '61'"),
        ("* 24 * * *", "field 2 (hour) '24'"),
        ("* * 0 * *", "field 3 (day-of-month) '0'"),
        ("* * * 13 *", "field 4 (month) '13'"),
        ("* * * * 8", "field 5 (day-of-week) '8'"),
        ("60 * * * * *", "field 1 (second) '60'"),
        ("0 61 * * * *", "field 2 (minute) '61'"),
        ("*/0 * * * *", "field 1 (minute) '*/0'"),
        ("5-1 * * * *", "field 1 (minute) '5-1'"),
        ("* * * foo *", "field 4 (month) 'foo'"),
        ("0 0 30 2 *", "field 3 (day-of-month) can never match"),
        ("* * *", "expected 5 fields"),
        ("* * * * * * *", "got 7"),
        ("@reboot", "unknown macro '@reboot'"),
        ("", "empty"),
    ],
)
def test_invalid_expressions_name_the_field(expr: str, needle: str) -> None:
    with pytest.raises(ScheduleError) as info:
        parse_cron(expr)
    assert needle in str(info.value)


def test_unknown_time_zone_is_rejected() -> None:
    with pytest.raises(ScheduleError, match="unknown time zone 'Mars/Olympus'"):
        preview("* * * * *", "Mars/Olympus", 1)

"""Change windows: periods, blackouts, next openings across time zones (pure)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from netfleet.jobs.windows import Window, WindowSpec, judge, next_opening, weekly_to_cron


def ts(text: str, tz: str = "UTC") -> float:
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(tz)).timestamp()


def win(**fields: object) -> Window:
    return Window.of(WindowSpec.model_validate({"name": "w", **fields}))


def test_weekly_ranges_become_cron_and_minutes() -> None:
    assert weekly_to_cron("sat 22:00-sun 06:00") == ("0 22 * * sat", 480)
    assert weekly_to_cron("01:30-03:00") == ("30 1 * * *", 90)
    assert weekly_to_cron("fri 23:00-mon 05:00") == ("0 23 * * fri", 54 * 60)
    assert weekly_to_cron("mon 00:00-mon 00:00") == ("0 0 * * mon", 10080)
    for bad in ("sat 22:00-06:00", "xyz 01:00-sun 02:00", "25:00-26:00", "noon-ish"):
        with pytest.raises(ValueError, match=r"expected|day|hours"):
            weekly_to_cron(bad)


def test_a_weekly_window_in_its_time_zone() -> None:
    w = win(weekly="sat 22:00-sun 06:00", timezone="Europe/Berlin")
    # 2026-12-05 is a Saturday; Berlin is UTC+1 in December.
    assert w.period_at(ts("2026-12-05T21:59:00", "Europe/Berlin")) is None
    start, end = w.period_at(ts("2026-12-05T23:00:00", "Europe/Berlin")) or (0, 0)
    assert start == ts("2026-12-05T22:00:00", "Europe/Berlin")
    assert end == ts("2026-12-06T06:00:00", "Europe/Berlin")
    assert w.period_at(ts("2026-12-06T06:00:00", "Europe/Berlin")) is None
    assert w.next_start(ts("2026-12-02T12:00:00")) == ts("2026-12-05T22:00:00", "Europe/Berlin")


def test_allowed_windows_and_blackouts_together() -> None:
    nightly = win(cron="0 1 * * *", duration_minutes=120)
    freeze = Window.of(
        WindowSpec(
            name="year-end-freeze",
            kind="blackout",
            start=datetime(2026, 12, 20, tzinfo=UTC),
            end=datetime(2027, 1, 4, tzinfo=UTC),
        )
    )
    windows = [nightly, freeze]
    assert judge(windows, ts("2026-12-02T01:30:00")).allowed
    noon = judge(windows, ts("2026-12-02T12:00:00"))
    assert not noon.allowed
    assert noon.window == "w"
    assert noon.next_opening == ts("2026-12-03T01:00:00")
    assert "outside the allowed change window(s) 'w'" in noon.reason
    assert "next opening 2026-12-03 01:00:00 UTC" in noon.reason
    frozen = judge(windows, ts("2026-12-25T01:30:00"))
    assert not frozen.allowed
    assert frozen.window == "year-end-freeze"
    assert "inside blackout window 'year-end-freeze'" in frozen.reason
    # The freeze ends on Jan 4 00:00; the nightly window opens at 01:00 that day.
    assert frozen.next_opening == ts("2027-01-04T01:00:00")
    assert next_opening([freeze], ts("2026-12-25T00:00:00")) == ts("2027-01-04T00:00:00")


def test_no_windows_allow_anything_and_disabled_ones_are_ignored() -> None:
    assert judge([], 0.0).allowed
    assert judge([win(cron="0 1 * * *", duration_minutes=1, enabled=False)], 5000.0).allowed


def test_a_window_that_never_opens_again_says_so() -> None:
    past = win(start=datetime(2020, 1, 1, tzinfo=UTC), end=datetime(2020, 1, 2, tzinfo=UTC))
    verdict = judge([past], ts("2026-12-02T00:00:00"))
    assert not verdict.allowed
    assert verdict.next_opening is None
    assert "next opening never" in verdict.reason


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({}, "exactly one of"),
        ({"cron": "0 1 * * *"}, "duration_minutes"),
        ({"cron": "0 25 * * *", "duration_minutes": 5}, "hour"),
        ({"weekly": "someday"}, "expected"),
        ({"start": "2026-01-02T00:00:00Z", "end": "2026-01-01T00:00:00Z"}, "end after"),
        ({"weekly": "01:00-02:00", "timezone": "Mars/Olympus"}, "unknown time zone"),
        ({"weekly": "01:00-02:00", "kind": "maybe"}, "allow"),
    ],
)
def test_bad_windows_name_the_problem(fields: dict[str, object], problem: str) -> None:
    with pytest.raises((ValidationError, ValueError)) as err:
        WindowSpec.model_validate({"name": "w", **fields})
    assert problem in str(err.value)


@pytest.mark.parametrize(
    ("tz", "saturday", "hours"),
    [
        ("Europe/Berlin", "2026-03-28", 7),  # spring forward: 02:00 -> 03:00 on Sunday
        ("Europe/Berlin", "2026-10-24", 9),  # fall back: 03:00 -> 02:00 on Sunday
        ("America/New_York", "2026-03-07", 7),
        ("America/New_York", "2026-10-31", 9),
        ("Europe/Berlin", "2026-12-05", 8),  # no change that night
    ],
)
def test_weekly_ranges_close_on_the_local_clock_across_dst(
    tz: str, saturday: str, hours: int
) -> None:
    w = win(weekly="sat 22:00-sun 06:00", timezone=tz)
    sunday = datetime.fromisoformat(saturday).date().toordinal() + 1
    sun = datetime.fromordinal(sunday).strftime("%Y-%m-%d")
    opens, closes = ts(f"{saturday}T22:00:00", tz), ts(f"{sun}T06:00:00", tz)
    assert w.period_at(opens + 60) == (opens, closes)
    assert closes - opens == hours * 3600
    # Just before 06:00 local the window is open, at 06:00 it is closed: an injected
    # clock judged against it sees exactly that, whatever the night's length.
    assert judge([w], closes - 60).allowed
    late = judge([w], closes)
    assert not late.allowed
    next_saturday = datetime.fromordinal(sunday + 6).strftime("%Y-%m-%d")
    assert late.next_opening == ts(f"{next_saturday}T22:00:00", tz)


def test_a_blackout_across_fall_back_ends_at_its_local_time() -> None:
    # A Sunday-morning blackout in New York on the night the clocks go back.
    black = win(
        name="b", kind="blackout", weekly="sun 00:00-sun 04:00", timezone="America/New_York"
    )
    inside = ts("2026-11-01T03:30:00", "America/New_York")  # after the repeated hour
    verdict = judge([black], inside)
    assert not verdict.allowed
    assert verdict.next_opening == ts("2026-11-01T04:00:00", "America/New_York")
    assert verdict.next_opening - ts("2026-11-01T00:00:00", "America/New_York") == 5 * 3600


def test_a_daily_range_ending_in_the_spring_gap_closes_after_it() -> None:
    w = win(weekly="01:30-02:30", timezone="America/New_York")
    opens = ts("2026-03-08T01:30:00", "America/New_York")
    # 02:30 does not exist that night: the window closes at 03:00 EDT, 30 minutes later.
    assert w.period_at(opens + 60) == (opens, opens + 1800)
    assert judge([w], opens + 1799).allowed
    assert not judge([w], opens + 1800).allowed


def test_a_cron_window_keeps_its_elapsed_duration() -> None:
    w = win(cron="0 22 * * sat", duration_minutes=480, timezone="Europe/Berlin")
    opens = ts("2026-10-24T22:00:00", "Europe/Berlin")
    assert w.period_at(opens + 60) == (opens, opens + 480 * 60)

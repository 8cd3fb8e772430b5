"""Next-fire computation against an independent brute-force matcher (hypothesis).

The oracle walks real time minute by minute (second by second for 6-field
expressions) and applies the documented rules directly:

* interval expressions (minute or hour field starts with ``*``) fire at every
  instant whose local wall time matches;
* wall-clock expressions fire at the first occurrence of a matching wall time
  (``fold == 0``), and once at the end of a spring-forward gap that swallowed
  one or more matching wall times.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from netfleet.core.errors import ScheduleError
from netfleet.jobs.cron import parse_cron

# Berlin and New York (1-hour DST), Lord Howe (30-minute DST), Santiago (transitions at
# midnight), UTC.
ZONES = ["Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "America/Santiago", "UTC"]
TRANSITIONS = [  # UTC instants of 2026 transitions, to start near them
    datetime(2026, 3, 29, 1, tzinfo=UTC),
    datetime(2026, 10, 25, 1, tzinfo=UTC),
    datetime(2026, 3, 8, 7, tzinfo=UTC),
    datetime(2026, 11, 1, 6, tzinfo=UTC),
    datetime(2026, 4, 4, 15, tzinfo=UTC),
    datetime(2026, 10, 3, 16, tzinfo=UTC),
    datetime(2026, 4, 5, 3, tzinfo=UTC),
    datetime(2026, 9, 6, 4, tzinfo=UTC),
    datetime(2027, 2, 28, 12, tzinfo=UTC),
]
MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
DAYS = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]


# --- the oracle: its own parser and matcher ---------------------------------------


def expand(field: str, lo: int, hi: int, names: list[str] | None = None) -> set[int]:
    out: set[int] = set()
    for part in field.split(","):
        step = 1
        if "/" in part:
            part, step_text = part.split("/")
            step = int(step_text)
        if names:
            for i, name in enumerate(names):
                part = part.replace(name, str(i + (1 if names is MONTHS else 0)))
        if part == "*":
            first, last = lo, hi
        elif "-" in part:
            a, b = part.split("-")
            first, last = int(a), int(b)
        else:
            first = int(part)
            last = hi if step != 1 else first
        out.update(range(first, last + 1, step))
    return out


class Oracle:
    def __init__(self, expr: str) -> None:
        parts = expr.split()
        if len(parts) == 5:
            parts = ["0", *parts]
        sec, minute, hour, dom, month, dow = parts
        self.seconds = expand(sec, 0, 59)
        self.minutes = expand(minute, 0, 59)
        self.hours = expand(hour, 0, 23)
        self.doms = expand(dom, 1, 31)
        self.months = expand(month, 1, 12, MONTHS)
        self.dows = {d % 7 for d in expand(dow, 0, 7, DAYS)}
        self.day_and = dom.startswith("*") or dow.startswith("*")
        self.wall_clock = not minute.startswith("*") and not hour.startswith("*")

    def never(self) -> bool:
        """No day of any year matches: days of the month that the chosen months lack
        (``30 2``), with any day of the week (``*``) so that the day of the month decides."""
        leap = 2028
        return self.day_and and not any(
            day <= calendar.monthrange(leap, month)[1] for month in self.months for day in self.doms
        )

    def matches(self, t: datetime) -> bool:
        if t.second not in self.seconds or t.minute not in self.minutes:
            return False
        if t.hour not in self.hours or t.month not in self.months:
            return False
        dom_ok = t.day in self.doms
        dow_ok = (t.isoweekday() % 7) in self.dows
        return (dom_ok and dow_ok) if self.day_and else (dom_ok or dow_ok)

    def fires(
        self, after: datetime, tz: ZoneInfo, horizon: timedelta, step: timedelta
    ) -> Iterator[datetime]:
        """Yield fire instants (UTC) in ``(after, after + horizon]``, ``step`` apart."""
        u = after.astimezone(UTC).replace(microsecond=0)
        if step == timedelta(minutes=1):
            u = u.replace(second=0)
        prev_local = (u - step).astimezone(tz).replace(tzinfo=None)
        end = after + horizon
        while u <= end:
            local = u.astimezone(tz)
            naive = local.replace(tzinfo=None)
            fire = False
            if self.wall_clock:
                if local.fold == 0 and self.matches(naive):
                    fire = True
                elif naive - prev_local > step:  # a gap: wall times were skipped
                    skipped = prev_local + step
                    while skipped < naive:
                        if self.matches(skipped):
                            fire = True
                            break
                        skipped += step
            elif self.matches(naive):
                fire = True
            if fire and u > after:
                yield u
            prev_local = naive
            u += step


# --- random expressions ---------------------------------------------------------


def _field(lo: int, hi: int, *, star_weight: int = 3) -> st.SearchStrategy[str]:
    value = st.integers(lo, hi)
    single = value.map(str)
    rng = st.tuples(value, value).map(lambda ab: f"{min(ab)}-{max(ab)}")
    stepped = st.integers(1, max(1, (hi - lo) // 2)).map(lambda k: f"*/{k}")
    rng_step = st.tuples(value, value, st.integers(1, 5)).map(
        lambda t: f"{min(t[0], t[1])}-{max(t[0], t[1])}/{t[2]}"
    )
    lst = st.lists(value, min_size=2, max_size=4, unique=True).map(lambda v: ",".join(map(str, v)))
    stars = [st.just("*")] * star_weight
    return st.one_of(*stars, single, rng, stepped, rng_step, lst)


expressions = st.tuples(
    _field(0, 59, star_weight=1),
    _field(0, 23, star_weight=2),
    st.one_of(*[st.just("*")] * 6, _field(1, 31, star_weight=0)),
    st.one_of(*[st.just("*")] * 8, _field(1, 12, star_weight=0)),
    st.one_of(*[st.just("*")] * 3, _field(0, 7, star_weight=0), st.just("MON-FRI")),
).map(" ".join)

starts = st.tuples(
    st.sampled_from(TRANSITIONS), st.integers(-36 * 3600, 36 * 3600), st.integers(0, 999_999)
).map(lambda t: t[0] + timedelta(seconds=t[1], microseconds=t[2]))


def _check(expr: str, zone: str, start: datetime, horizon: timedelta, step: timedelta) -> None:
    tz = ZoneInfo(zone)
    if Oracle(expr).never():  # refused with a clear error, not scheduled to fire never
        with pytest.raises(ScheduleError, match="can never match"):
            parse_cron(expr)
        return
    compiled = parse_cron(expr)
    expected = []
    for fire in Oracle(expr).fires(start, tz, horizon, step):
        expected.append(fire)
        if len(expected) == 4:
            break
    got = []
    last = start
    for _ in range(len(expected) + 1):
        nxt = compiled.next_after(last, tz)
        if nxt is None:
            break
        got.append(nxt.astimezone(UTC))
        last = nxt
    if len(expected) < 4:  # the oracle ran out of horizon: one more fire, beyond it
        assert got[: len(expected)] == expected, (expr, zone, start)
        assert len(got) == len(expected) or got[len(expected)] > start + horizon
    else:
        assert got[:4] == expected, (expr, zone, start)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(expr=expressions, zone=st.sampled_from(ZONES), start=starts)
@example(expr="* * 30 2 *", zone="UTC", start=TRANSITIONS[0])
def test_next_fire_matches_brute_force(expr: str, zone: str, start: datetime) -> None:
    _check(expr, zone, start, timedelta(days=2), timedelta(minutes=1))


seconds_expressions = st.tuples(
    _field(0, 59, star_weight=2),
    _field(0, 59, star_weight=2),
    st.just("*"),
    st.just("*"),
    st.just("*"),
    st.just("*"),
).map(" ".join)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(expr=seconds_expressions, zone=st.sampled_from(ZONES), start=starts)
def test_six_field_next_fire_matches_brute_force(expr: str, zone: str, start: datetime) -> None:
    _check(expr, zone, start, timedelta(hours=2), timedelta(seconds=1))

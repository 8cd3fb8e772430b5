"""Cron expressions: parsing, validation and next-fire computation in a time zone.

Accepted forms: the standard 5 fields (minute hour day-of-month month day-of-week),
6 fields with a leading seconds field (an extension), and the macros ``@yearly``,
``@annually``, ``@monthly``, ``@weekly``, ``@daily``, ``@midnight`` and ``@hourly``.
Field syntax is cronsim's: ``*``, lists, ranges, steps, month/day names, ``L``,
``LW``, ``MON#2``, ``5L``.

Daylight saving follows Debian cron/cronie:

* **Wall-clock expressions** (neither the minute nor the hour field starts with
  ``*``, e.g. ``30 2 * * *``) fire at local wall-clock times. A time that does not
  exist on a spring-forward day fires once at the first valid time after the gap
  (02:30 becomes 03:00); a repeated time on a fall-back day fires only the first
  time it occurs.
* **Interval expressions** (the minute or hour field starts with ``*``, e.g.
  ``*/15 * * * *``) fire at every real instant whose local time matches, so they
  keep their rhythm in elapsed time across transitions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cronsim import CronSim, CronSimError
from cronsim.cronsim import Field as _CronField

from netfleet.core.errors import ScheduleError

MACROS: dict[str, str] = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}

_FIELD_NAMES_5 = ("minute", "hour", "day-of-month", "month", "day-of-week")
_FIELD_NAMES_6 = ("second", *_FIELD_NAMES_5)
_FIELD_RANGES = {
    "second": "0-59",
    "minute": "0-59",
    "hour": "0-23",
    "day-of-month": "1-31, L, LW",
    "month": "1-12 or JAN-DEC",
    "day-of-week": "0-7 or SUN-SAT, 5L, MON#2",
}
_MAX_GAP_MINUTES = 48 * 60
"""No time zone skips more than a day (Pacific/Apia skipped 2011-12-30)."""


def zone(name: str) -> ZoneInfo:
    """The ``ZoneInfo`` for an IANA name; ``ScheduleError`` if it is unknown."""
    if not name or not isinstance(name, str):
        raise ScheduleError("timezone: must be an IANA name such as 'Europe/Berlin'")
    try:
        return _zone(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ScheduleError(
            f"timezone: unknown time zone {name!r} (use an IANA name such as 'Europe/Berlin')"
        ) from None


@lru_cache(maxsize=256)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def is_imaginary(local: datetime, tz: tzinfo) -> bool:
    """Whether the naive wall-clock time ``local`` does not exist in ``tz`` (DST gap)."""
    aware = local.replace(tzinfo=tz, fold=0)
    return aware.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != local


def resolve_wall_time(local: datetime, tz: tzinfo) -> datetime:
    """The aware instant for a naive wall-clock time: the first occurrence if repeated,
    the first valid time after the gap if it does not exist."""
    local = local.replace(tzinfo=None, fold=0)
    if is_imaginary(local, tz):
        probe = local.replace(second=0, microsecond=0)
        for _ in range(_MAX_GAP_MINUTES):
            probe += timedelta(minutes=1)
            if not is_imaginary(probe, tz):
                return probe.replace(tzinfo=tz)
    return local.replace(tzinfo=tz)


@dataclass(frozen=True, slots=True)
class CronExpression:
    """A validated cron expression. ``source`` is what the user wrote."""

    source: str
    fields: tuple[str, ...]
    """Always 6 fields, seconds first."""
    has_seconds: bool

    @property
    def wall_clock(self) -> bool:
        """Wall-clock semantics across DST (see the module docstring)."""
        return not self.fields[1].startswith("*") and not self.fields[2].startswith("*")

    @property
    def normalized(self) -> str:
        return " ".join(self.fields if self.has_seconds else self.fields[1:])

    def next_after(self, after: datetime, tz: tzinfo) -> datetime | None:
        """The first fire time strictly after ``after`` (aware), in ``tz``; None if never."""
        if after.tzinfo is None:
            raise ValueError("after must be timezone-aware")
        # Compare in UTC only: Python compares datetimes sharing a tzinfo by wall time,
        # which ignores ``fold`` and gets the repeated fall-back hour wrong.
        after = after.astimezone(UTC)
        if self.wall_clock:
            return self._next_wall_clock(after, tz)
        return self._next_instant(after, tz)

    def iter_after(self, after: datetime, tz: tzinfo) -> _FireIterator:
        """Fire times strictly after ``after``, in order."""
        return _FireIterator(self, after, tz)

    def _expr6(self) -> str:
        return " ".join(self.fields)

    def _next_wall_clock(self, after: datetime, tz: tzinfo) -> datetime | None:
        # Iterate over naive wall-clock candidates (no DST in naive arithmetic) and map
        # each to an instant; that map is monotonic, so the first one past ``after`` wins.
        local_after = after.astimezone(tz).replace(tzinfo=None, fold=0)
        start = local_after.replace(microsecond=0)
        try:
            for candidate in CronSim(self._expr6(), start):
                fire = resolve_wall_time(candidate, tz)
                if fire.astimezone(UTC) > after:
                    return fire
        except StopIteration:  # pragma: no cover - cronsim raises it directly
            return None
        return None

    def _next_instant(self, after: datetime, tz: tzinfo) -> datetime | None:
        # Walk constant-offset periods: inside one, the local time is the instant plus a
        # fixed offset, so naive iteration finds the next match; if a transition comes
        # first, continue from the transition with the new offset.
        start = int(after.timestamp()) + 1  # fire times are whole seconds
        for _ in range(1000):
            offset = _offset(start, tz)
            local = datetime.fromtimestamp(start + offset, UTC).replace(tzinfo=None)
            candidate = _first_naive_match(self._expr6(), local - timedelta(seconds=1))
            if candidate is None:
                return None
            fire = int(candidate.replace(tzinfo=UTC).timestamp()) - offset
            change = _first_offset_change(start, fire, offset, tz)
            if change is None:
                return datetime.fromtimestamp(fire, UTC).astimezone(tz)
            start = change
        return None  # pragma: no cover - a thousand transitions without a match


def _offset(epoch: int, tz: tzinfo) -> int:
    """The UTC offset of ``tz`` at an instant, in seconds."""
    delta = datetime.fromtimestamp(epoch, UTC).astimezone(tz).utcoffset()
    return int(delta.total_seconds()) if delta is not None else 0


def _first_offset_change(start: int, end: int, offset: int, tz: tzinfo) -> int | None:
    """The first instant in ``(start, end]`` whose offset differs from ``offset``."""
    day = 86_400
    low = start
    while low < end:
        high = min(low + day, end)
        if _offset(high, tz) != offset:
            while high - low > 1:  # bisect to the second: offset(low) == offset != offset(high)
                mid = (low + high) // 2
                if _offset(mid, tz) == offset:
                    low = mid
                else:
                    high = mid
            return high
        low = high
    return None


def _first_naive_match(expr6: str, after: datetime) -> datetime | None:
    """The first naive time strictly after ``after`` matching the expression."""
    try:
        return next(CronSim(expr6, after))
    except StopIteration:
        return None


class _FireIterator:
    def __init__(self, expr: CronExpression, after: datetime, tz: tzinfo) -> None:
        self._expr = expr
        self._last = after
        self._tz = tz

    def __iter__(self) -> _FireIterator:
        return self

    def __next__(self) -> datetime:
        fire = self._expr.next_after(self._last, self._tz)
        if fire is None:
            raise StopIteration
        self._last = fire
        return fire


def parse_cron(expression: str) -> CronExpression:
    """Validate a cron expression; ``ScheduleError`` names the bad field and its position."""
    if not isinstance(expression, str) or not expression.strip():
        raise ScheduleError("cron: the expression is empty")
    source = expression.strip()
    text = source
    if text.startswith("@"):
        macro = MACROS.get(text.lower())
        if macro is None:
            known = ", ".join(MACROS)
            raise ScheduleError(f"cron {source!r}: unknown macro {text!r} (known: {known})")
        text = macro
    written = text.split()
    parts = [p.upper() for p in written]
    if len(parts) not in (5, 6):
        raise ScheduleError(
            f"cron {source!r}: expected 5 fields (minute hour day-of-month month day-of-week)"
            f" or 6 with a leading seconds field, got {len(parts)}"
        )
    names = _FIELD_NAMES_6 if len(parts) == 6 else _FIELD_NAMES_5
    for position, (name, value) in enumerate(zip(names, parts, strict=True), start=1):
        _check_field(source, position, name, value, written[position - 1])
    parts = [_expand_stepped_ranges(name, value) for name, value in zip(names, parts, strict=True)]
    fields = tuple(parts) if len(parts) == 6 else ("0", *parts)
    try:
        CronSim(" ".join(fields), datetime(2000, 1, 1))
    except CronSimError as exc:
        raise ScheduleError(_describe_cronsim_error(source, names, str(exc), len(parts))) from None
    return CronExpression(source=source, fields=fields, has_seconds=len(parts) == 6)


_STEPPED_RANGE = re.compile(r"^([0-9A-Z]+)-([0-9A-Z]+)/([0-9]+)$")
_NAMES = {
    "month": ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"],
    "day-of-week": ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"],
}


def _expand_stepped_ranges(name: str, value: str) -> str:
    """Spell out ``a-b/k`` terms as lists (cronsim reads ``a-a/k`` as ``a/k``: a to the end)."""
    terms = []
    for term in value.split(","):
        match = _STEPPED_RANGE.match(term)
        if match is None:
            terms.append(term)
            continue
        names = _NAMES.get(name, [])
        offset = 1 if name == "month" else 0
        lo, hi = (names.index(x) + offset if x in names else int(x) for x in match.group(1, 2))
        terms.append(",".join(str(v) for v in range(lo, hi + 1, int(match.group(3)))))
    return ",".join(terms)


def _check_field(source: str, position: int, name: str, value: str, written: str) -> None:
    try:
        _CronField(_FIELD_NAMES_6.index(name)).parse(value)
    except (CronSimError, ValueError, IndexError, AssertionError):
        _raise_field(source, position, name, written)


def _raise_field(source: str, position: int, name: str, value: str) -> None:
    raise ScheduleError(
        f"cron {source!r}: field {position} ({name}) {value!r} is invalid"
        f" (allowed: {_FIELD_RANGES[name]}, with * , - /)"
    )


def _describe_cronsim_error(source: str, names: tuple[str, ...], message: str, n: int) -> str:
    for position, name in enumerate(names, start=1):
        if name in message:
            return f"cron {source!r}: field {position} ({name}) can never match"
    return f"cron {source!r}: {message}"


def preview(
    expression: str | CronExpression,
    timezone: str,
    n: int = 5,
    after: datetime | None = None,
) -> list[datetime]:
    """The next ``n`` fire times of a cron expression in ``timezone`` (aware, local)."""
    expr = parse_cron(expression) if isinstance(expression, str) else expression
    tz = zone(timezone)
    if n < 0:
        raise ScheduleError("preview: n must be >= 0")
    start = after if after is not None else datetime.now(UTC)
    if start.tzinfo is None:
        start = resolve_wall_time(start, tz)
    out: list[datetime] = []
    for fire in expr.iter_after(start, tz):
        out.append(fire)
        if len(out) >= n:
            break
    return out

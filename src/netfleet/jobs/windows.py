"""Change windows: named allowed periods and blackouts, in a time zone (pure functions).

A window is a recurring period (a cron expression for its openings plus a
duration, or a weekly range such as ``sat 22:00-sun 06:00``) or a fixed period
(``start``/``end``). ``allow`` windows say when configuration may change: when
any is defined, a config job starts only inside one of them. ``blackout``
windows say when it may not, whatever the allowed windows say. Outside, a job
waits for the next opening (``policy = wait``) or is refused (``refuse``).

Weekly ranges are wall-clock times in the window's zone: ``sat 22:00-sun 06:00``
opens at 22:00 and closes at 06:00 local time, also on a daylight-saving night
(when the period is then 7 or 9 hours long). A cron window's ``duration_minutes``
is elapsed time. ``groups`` and ``devices`` scope a window to the jobs whose
targets match them; an unscoped window applies to every config job.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from fnmatch import fnmatchcase
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from netfleet.core.errors import ScheduleError
from netfleet.jobs.cron import CronExpression, parse_cron, resolve_wall_time, zone

WindowKind = Literal["allow", "blackout"]
WindowPolicy = Literal["wait", "refuse"]
MAX_SEARCH = 2000
"""Openings examined when looking for the next time a change may start."""

_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_WEEKLY = re.compile(
    r"^\s*(?:(?P<d1>[a-z]{3})\s+)?(?P<h1>\d{1,2}):(?P<m1>\d{2})\s*-\s*"
    r"(?:(?P<d2>[a-z]{3})\s+)?(?P<h2>\d{1,2}):(?P<m2>\d{2})\s*$",
    re.IGNORECASE,
)


def weekly_to_cron(text: str) -> tuple[str, int]:
    """``'sat 22:00-sun 06:00'`` (or daily ``'01:00-03:30'``) as (cron, minutes)."""
    match = _WEEKLY.match(text)
    if match is None:
        raise ValueError(f"{text!r}: expected 'DAY HH:MM-DAY HH:MM' or 'HH:MM-HH:MM'")
    d1, d2 = match["d1"], match["d2"]
    if (d1 is None) != (d2 is None):
        raise ValueError(f"{text!r}: give a day on both ends, or on neither")
    h1, m1, h2, m2 = (int(match[k]) for k in ("h1", "m1", "h2", "m2"))
    if h1 > 23 or h2 > 23 or m1 > 59 or m2 > 59:
        raise ValueError(f"{text!r}: hours are 0..23 and minutes 0..59")
    if d1 is None or d2 is None:
        minutes = (h2 * 60 + m2 - h1 * 60 - m1) % 1440 or 1440
        return f"{m1} {h1} * * *", minutes
    days = [d.lower() for d in (d1, d2)]
    for day in days:
        if day not in _DAYS:
            raise ValueError(f"{text!r}: unknown day {day!r} (use {', '.join(_DAYS)})")
    start = _DAYS.index(days[0]) * 1440 + h1 * 60 + m1
    end = _DAYS.index(days[1]) * 1440 + h2 * 60 + m2
    return f"{m1} {h1} * * {days[0]}", (end - start) % 10080 or 10080


class WindowSpec(BaseModel):
    """A named change window as the user gives it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=255, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    kind: WindowKind = "allow"
    timezone: str = "UTC"
    cron: str | None = Field(None, max_length=255, description="Openings, e.g. '0 22 * * sat'.")
    duration_minutes: int | None = Field(None, ge=1, le=366 * 1440)
    weekly: str | None = Field(None, max_length=64, description="'sat 22:00-sun 06:00'.")
    start: datetime | None = Field(None, description="A fixed period: from (aware or UTC).")
    end: datetime | None = Field(None, description="A fixed period: until.")
    policy: WindowPolicy = Field("wait", description="Outside: the job waits, or is refused.")
    enabled: bool = True
    description: str = Field("", max_length=1000)
    groups: tuple[str, ...] = Field(
        (), max_length=100, description="Applies to jobs touching a device in these groups."
    )
    devices: tuple[str, ...] = Field(
        (), max_length=100, description="Applies to jobs touching these devices (glob patterns)."
    )

    @property
    def scoped(self) -> bool:
        return bool(self.groups or self.devices)

    def applies_to(self, names: Sequence[str], groups: Sequence[str]) -> bool:
        """Does the window govern a job whose targets have these names and groups?"""
        if not self.scoped:
            return True
        if set(self.groups) & set(groups):
            return True
        return any(fnmatchcase(n, p) for p in self.devices for n in names)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            zone(value)
        except ScheduleError as exc:
            raise ValueError(exc.message) from None
        return value

    @field_validator("start", "end")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value

    @model_validator(mode="after")
    def _one_form(self) -> WindowSpec:
        forms = [self.cron is not None, self.weekly is not None, self.start is not None]
        if sum(forms) != 1:
            raise ValueError("give exactly one of: cron (with duration_minutes), weekly, start/end")
        if self.cron is not None:
            if self.duration_minutes is None:
                raise ValueError("cron windows need duration_minutes")
            try:
                parse_cron(self.cron)
            except ScheduleError as exc:
                raise ValueError(exc.message) from None
        if self.weekly is not None:
            weekly_to_cron(self.weekly)
        if self.start is not None and (self.end is None or self.end <= self.start):
            raise ValueError("a fixed window needs an end after its start")
        if self.end is not None and self.start is None:
            raise ValueError("end needs start")
        return self


@dataclass(frozen=True, slots=True)
class Window:
    """A window ready for time arithmetic (epoch seconds)."""

    spec: WindowSpec
    cron: CronExpression | None
    duration_s: float
    """Elapsed length; for a weekly range, its length on a night without a DST change."""
    wall_minutes: int | None = None
    """Weekly ranges: the length on the local clock (the closing is wall-clock)."""

    @classmethod
    def of(cls, spec: WindowSpec) -> Window:
        if spec.weekly is not None:
            text, minutes = weekly_to_cron(spec.weekly)
            return cls(spec, parse_cron(text), minutes * 60.0, minutes)
        if spec.cron is not None:
            return cls(spec, parse_cron(spec.cron), float(spec.duration_minutes or 0) * 60)
        assert spec.start is not None
        assert spec.end is not None
        return cls(spec, None, spec.end.timestamp() - spec.start.timestamp())

    @property
    def name(self) -> str:
        return self.spec.name

    def _end(self, fire: datetime) -> float:
        """When the period opened at ``fire`` closes."""
        if self.wall_minutes is None:
            return fire.timestamp() + self.duration_s
        tz = zone(self.spec.timezone)
        local = fire.astimezone(tz).replace(tzinfo=None) + timedelta(minutes=self.wall_minutes)
        return resolve_wall_time(local, tz).timestamp()

    def period_at(self, t: float) -> tuple[float, float] | None:
        """The (start, end) of this window's period containing ``t``, or None."""
        if self.cron is None:
            assert self.spec.start is not None
            start = self.spec.start.timestamp()
            end = start + self.duration_s
            return (start, end) if start <= t < end else None
        tz = zone(self.spec.timezone)
        # A DST change makes a wall-clock period up to an hour longer: look back that far.
        slack = 3600.0 if self.wall_minutes is not None else 0.0
        since = datetime.fromtimestamp(t - self.duration_s - slack, UTC)
        containing: datetime | None = None
        for fire in self.cron.iter_after(since, tz):
            if fire.timestamp() > t:
                break
            if self._end(fire) > t:
                containing = fire
                break
        if containing is None:
            return None
        # Overlapping periods (a long duration): the window stays open until the last ends.
        start = containing.timestamp()
        end = self._end(containing)
        for later in self.cron.iter_after(containing, tz):
            if later.timestamp() > end or later.timestamp() > t + 366 * 86_400:
                break
            end = max(end, self._end(later))
        return start, end

    def next_start(self, t: float) -> float | None:
        """The first opening strictly after ``t``, or None if it never opens again."""
        if self.cron is None:
            assert self.spec.start is not None
            start = self.spec.start.timestamp()
            return start if start > t else None
        fire = self.cron.next_after(datetime.fromtimestamp(t, UTC), zone(self.spec.timezone))
        return None if fire is None else fire.timestamp()


@dataclass(frozen=True, slots=True)
class Verdict:
    """Whether a change may start at ``at``, and if not, why and when it may."""

    at: float
    allowed: bool
    window: str | None = None
    """The blackout in force, or the allowed window(s) that are closed."""
    next_opening: float | None = None
    policy: WindowPolicy = "wait"
    reason: str = ""


def _fmt(t: float | None) -> str:
    if t is None:
        return "never"
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _can_start(windows: Sequence[Window], t: float) -> tuple[bool, Window | None]:
    """(may start at ``t``, the window that forbids it)."""
    for w in windows:
        if w.spec.kind == "blackout" and w.period_at(t) is not None:
            return False, w
    allows = [w for w in windows if w.spec.kind == "allow"]
    if allows and not any(w.period_at(t) is not None for w in allows):
        return False, allows[0]
    return True, None


def next_opening(windows: Sequence[Window], t: float) -> float | None:
    """The earliest time ≥ ``t`` a change may start (None: not within the search)."""
    live = [w for w in windows if w.spec.enabled]
    probe = t
    for _ in range(MAX_SEARCH):
        ok, blocker = _can_start(live, probe)
        if ok:
            return probe
        candidates: list[float] = []
        assert blocker is not None
        if blocker.spec.kind == "blackout":
            period = blocker.period_at(probe)
            if period is not None:
                candidates.append(period[1])
        else:
            for w in live:
                if w.spec.kind == "allow":
                    start = w.next_start(probe)
                    if start is not None:
                        candidates.append(start)
        later = [c for c in candidates if c > probe]
        if not later:
            return None
        probe = min(later)
    return None


def judge(windows: Sequence[Window], t: float) -> Verdict:
    """May a config change start at ``t``? Disabled windows are ignored."""
    live = [w for w in windows if w.spec.enabled]
    ok, blocker = _can_start(live, t)
    if ok:
        return Verdict(at=t, allowed=True)
    assert blocker is not None
    opening = next_opening(live, t)
    if blocker.spec.kind == "blackout":
        names = blocker.name
        reason = f"inside blackout window {names!r}"
        policy = blocker.spec.policy
    else:
        closed = [w for w in live if w.spec.kind == "allow"]
        names = ", ".join(repr(w.name) for w in closed)
        reason = f"outside the allowed change window(s) {names}"
        policy = "refuse" if all(w.spec.policy == "refuse" for w in closed) else "wait"
        names = ", ".join(w.name for w in closed)
    return Verdict(
        at=t,
        allowed=False,
        window=names,
        next_opening=opening,
        policy=policy,
        reason=f"{reason}; next opening {_fmt(opening)}",
    )

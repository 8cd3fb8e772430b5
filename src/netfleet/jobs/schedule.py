"""Schedules: validation of new schedules and the pure firing rules (no I/O).

A schedule is a one-time time (``kind="once"``) or a cron expression
(``kind="cron"``) in an IANA time zone, plus a job template (``JobSpec``).

Firing rules, applied by the scheduler loop with database time ``now``:

* A firing is **on time** when it is reached no more than ``grace_s`` after its
  fire time (the loop's tolerance for polling and brief hiccups); older firings
  were **missed** (scheduler down, schedule held by overlap control).
* ``misfire_policy``: ``skip`` runs only on-time firings; ``run_latest`` also runs
  the latest missed firing once when no firing is on time (a single catch-up run);
  ``backfill`` runs every missed firing no older than ``misfire_window_s``.
* ``overlap``: ``skip`` drops a firing while the schedule's previous job is
  unfinished; ``queue`` holds it until that job finishes (one job in flight).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any, Literal

from netfleet.core.errors import ScheduleError, ValidationError
from netfleet.jobs.cron import CronExpression, parse_cron, resolve_wall_time, zone
from netfleet.jobs.model import JobSpec, parse_job_spec

ScheduleKind = Literal["cron", "once"]
MisfirePolicy = Literal["skip", "run_latest", "backfill"]
OverlapPolicy = Literal["skip", "queue"]
MISFIRE_POLICIES: tuple[MisfirePolicy, ...] = ("skip", "run_latest", "backfill")
OVERLAP_POLICIES: tuple[OverlapPolicy, ...] = ("skip", "queue")
MAX_NAME_LENGTH = 255
MAX_WINDOW_S = 366 * 86_400.0
SKIP_COUNT_CAP = 1000
_EPSILON = timedelta(microseconds=1)


@dataclass(frozen=True, slots=True)
class ScheduleSpec:
    """A validated schedule as a user defines it. Times are aware UTC datetimes."""

    name: str
    kind: ScheduleKind
    expression: str | None
    at: datetime | None
    timezone: str
    job_template: JobSpec
    enabled: bool = True
    start_at: datetime | None = None
    end_at: datetime | None = None
    misfire_policy: MisfirePolicy = "skip"
    misfire_window_s: float = 60.0
    overlap: OverlapPolicy = "queue"

    @property
    def tz(self) -> tzinfo:
        return zone(self.timezone)

    @property
    def cron(self) -> CronExpression | None:
        return parse_cron(self.expression) if self.expression is not None else None


@dataclass(frozen=True, slots=True)
class Schedule:
    """A stored schedule: its spec plus id, state and bookkeeping times (aware UTC)."""

    id: int
    spec: ScheduleSpec
    next_fire_at: datetime | None
    """``None`` once a one-time schedule fired or a cron schedule passed its end."""
    last_fire_at: datetime | None
    created_at: datetime
    updated_at: datetime

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def enabled(self) -> bool:
        return self.spec.enabled

    @property
    def finished(self) -> bool:
        return self.next_fire_at is None


def schedule_ref(text: str) -> int | str:
    """A schedule reference as typed by a user: an id when all ASCII digits, else a name."""
    return int(text) if text.isascii() and text.isdigit() and len(text) < 19 else text


def _aware(value: datetime | str | None, tz: tzinfo, what: str) -> datetime | None:
    """An aware UTC datetime; naive values are local wall time in ``tz``."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise ScheduleError(f"{what}: {value!r} is not an ISO 8601 date/time") from None
    if not isinstance(value, datetime):
        raise ScheduleError(f"{what}: expected a datetime, got {type(value).__name__}")
    if value.tzinfo is None:
        resolved = resolve_wall_time(value, tz)
        if resolved.replace(tzinfo=None) != value.replace(fold=0):
            raise ScheduleError(f"{what}: {value.isoformat()} does not exist in {tz} (DST gap)")
        value = resolved
    return value.astimezone(UTC)


def build_schedule(
    *,
    name: str,
    job_template: Mapping[str, Any] | JobSpec,
    cron: str | None = None,
    at: datetime | str | None = None,
    timezone: str = "UTC",
    enabled: bool = True,
    start_at: datetime | str | None = None,
    end_at: datetime | str | None = None,
    misfire_policy: str = "skip",
    misfire_window_s: float = 60.0,
    overlap: str = "queue",
    now: datetime | None = None,
) -> ScheduleSpec:
    """Validate user input into a ``ScheduleSpec``; ``ScheduleError`` names the problem.

    ``at``, ``start_at`` and ``end_at`` may be aware, or naive local times in ``timezone``.
    """
    if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME_LENGTH:
        raise ScheduleError(f"name: must be 1..{MAX_NAME_LENGTH} characters")
    if isinstance(schedule_ref(name.strip()), int):
        raise ScheduleError(
            f"name: {name.strip()!r} is all digits (digits address a schedule by id)"
        )
    if (cron is None) == (at is None):
        raise ScheduleError("give exactly one of cron (recurring) or at (one time)")
    tz = zone(timezone)
    expr = parse_cron(cron) if cron is not None else None
    at_utc = _aware(at, tz, "at")
    start = _aware(start_at, tz, "start_at")
    end = _aware(end_at, tz, "end_at")
    if misfire_policy not in MISFIRE_POLICIES:
        raise ScheduleError(f"misfire_policy: {misfire_policy!r} is not one of {MISFIRE_POLICIES}")
    if overlap not in OVERLAP_POLICIES:
        raise ScheduleError(f"overlap: {overlap!r} is not one of {OVERLAP_POLICIES}")
    if not isinstance(misfire_window_s, int | float) or not 0 <= misfire_window_s <= MAX_WINDOW_S:
        raise ScheduleError(f"misfire_window_s: must be between 0 and {MAX_WINDOW_S:.0f} seconds")
    try:
        template = parse_job_spec(job_template)
    except ValidationError as exc:
        raise ScheduleError(f"job template: {exc.message}") from None
    if template.options.idempotency_key is not None or template.options.run_at is not None:
        raise ScheduleError(
            "job template: options.idempotency_key and options.run_at are not allowed"
            " (each firing is one job, unique by schedule and fire time)"
        )
    now = (now or datetime.now(UTC)).astimezone(UTC)
    if start is not None and end is not None and end <= start:
        raise ScheduleError(
            f"end_at: {end.isoformat()} must be after start_at ({start.isoformat()})"
        )
    if end is not None and end <= now:
        raise ScheduleError(f"end_at: {end.isoformat()} is in the past")
    if at_utc is not None:
        if at_utc <= now:
            raise ScheduleError(f"at: {at_utc.isoformat()} is in the past")
        if (start is not None and at_utc < start) or (end is not None and at_utc > end):
            raise ScheduleError("at: must lie between start_at and end_at")
    spec = ScheduleSpec(
        name=name.strip(),
        kind="cron" if expr is not None else "once",
        expression=expr.source if expr is not None else None,
        at=at_utc,
        timezone=timezone,
        job_template=template,
        enabled=enabled,
        start_at=start,
        end_at=end,
        misfire_policy=misfire_policy,
        misfire_window_s=float(misfire_window_s),
        overlap=overlap,
    )
    if expr is not None and first_fire(spec, now) is None:
        raise ScheduleError(f"cron {expr.source!r} never fires between start_at and end_at")
    return spec


# --- fire-time computation --------------------------------------------------------


def _within_end(spec: ScheduleSpec, fire: datetime | None) -> datetime | None:
    if fire is None or (spec.end_at is not None and fire > spec.end_at):
        return None
    return fire


def fire_after(spec: ScheduleSpec, after: datetime) -> datetime | None:
    """The schedule's first fire time strictly after ``after`` (honours start/end), UTC."""
    after = after.astimezone(UTC)
    if spec.kind == "once":
        return spec.at if spec.at is not None and spec.at > after else None
    expr = spec.cron
    assert expr is not None
    if spec.start_at is not None and spec.start_at > after:
        after = spec.start_at - _EPSILON
    fire = expr.next_after(after, spec.tz)
    return _within_end(spec, fire.astimezone(UTC) if fire is not None else None)


def first_fire(spec: ScheduleSpec, now: datetime) -> datetime | None:
    """``next_fire_at`` for a new (or resumed) schedule: the first fire time after ``now``."""
    return fire_after(spec, now)


def last_fire_at_or_before(spec: ScheduleSpec, limit: datetime, lower: datetime) -> datetime | None:
    """The latest fire time in ``[lower, limit]``, probing backwards exponentially."""
    limit, lower = limit.astimezone(UTC), lower.astimezone(UTC)
    if limit < lower:
        return None
    span = timedelta(seconds=2)
    while True:
        start = max(lower, limit - span)
        fire = fire_after(spec, start - _EPSILON)
        if fire is not None and fire <= limit:
            latest = fire
            while (following := fire_after(spec, latest)) is not None and following <= limit:
                latest = following
            return latest
        if start == lower:
            return None
        span *= 4


@dataclass(frozen=True, slots=True)
class FiringPlan:
    """What to do for one due schedule: the fire times to create a job for, how many
    firings were dropped, and the new ``next_fire_at`` (``None``: no more firings)."""

    fire_times: tuple[datetime, ...]
    skipped: int
    next_fire_at: datetime | None


def plan_firings(
    spec: ScheduleSpec,
    next_fire_at: datetime,
    now: datetime,
    *,
    grace_s: float = 30.0,
    limit: int = 100,
) -> FiringPlan:
    """Apply the misfire policy to the firings due in ``[next_fire_at, now]``.

    At most ``limit`` fire times are returned (oldest first); if more are due, the new
    ``next_fire_at`` is the first one not returned, so the next round continues there.
    Counting skipped firings stops at ``SKIP_COUNT_CAP`` (long downtimes of busy schedules).
    """
    next_fire_at, now = next_fire_at.astimezone(UTC), now.astimezone(UTC)
    if next_fire_at > now:
        return FiringPlan((), 0, next_fire_at)
    on_time_from = now - timedelta(seconds=grace_s)
    keep_from = on_time_from
    if spec.misfire_policy == "backfill":
        keep_from = min(on_time_from, now - timedelta(seconds=spec.misfire_window_s))
    fires: list[datetime] = []
    skipped = 0
    first_kept = (
        next_fire_at if next_fire_at >= keep_from else fire_after(spec, keep_from - _EPSILON)
    )
    if first_kept is not None and first_kept > now:
        first_kept = None
    if first_kept is None and spec.misfire_policy == "run_latest":
        first_kept = last_fire_at_or_before(spec, now, next_fire_at)
    if first_kept is not None and first_kept > next_fire_at:
        skipped = _count(spec, next_fire_at, first_kept)
    elif first_kept is None:
        skipped = _count(spec, next_fire_at, now + _EPSILON)
    fire = first_kept
    while fire is not None and fire <= now and len(fires) < limit:
        fires.append(fire)
        fire = fire_after(spec, fire)
    # Stopped at the limit (fire still due), past ``now``, or at the end of the schedule.
    nxt = fire if fires else fire_after(spec, now)
    return FiringPlan(tuple(fires), skipped, nxt)


def _count(spec: ScheduleSpec, start: datetime, stop: datetime, cap: int = SKIP_COUNT_CAP) -> int:
    """How many fire times lie in ``[start, stop)`` (at most ``cap``)."""
    n = 0
    fire: datetime | None = start
    while fire is not None and fire < stop and n < cap:
        n += 1
        fire = fire_after(spec, fire)
    return n


@dataclass(frozen=True, slots=True)
class OverlapDecision:
    """A plan after overlap control: fire these, advance to ``next_fire_at`` — or hold."""

    fire_times: tuple[datetime, ...]
    next_fire_at: datetime | None
    skipped: int
    held: bool = False


def apply_overlap(plan: FiringPlan, overlap: OverlapPolicy, busy: bool) -> OverlapDecision:
    """Overlap control for a plan; ``busy``: the schedule's previous job is unfinished.

    ``skip`` drops the firings while busy, and fires at most one at a time (the rest
    would overlap the job just created). ``queue`` holds everything while busy
    (``next_fire_at`` stays) and releases one firing at a time.
    """
    fires = plan.fire_times
    if not fires:
        return OverlapDecision((), plan.next_fire_at, plan.skipped)
    if busy and overlap == "queue":
        return OverlapDecision((), None, 0, held=True)
    if busy:
        return OverlapDecision((), plan.next_fire_at, plan.skipped + len(fires))
    if len(fires) == 1:
        return OverlapDecision(fires, plan.next_fire_at, plan.skipped)
    if overlap == "queue":
        return OverlapDecision(fires[:1], fires[1], plan.skipped)
    return OverlapDecision(fires[:1], plan.next_fire_at, plan.skipped + len(fires) - 1)

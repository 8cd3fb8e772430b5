"""Schedules SQL: definitions, due schedules and firing.

Times in the table are epoch seconds (UTC); ``Schedule`` carries aware UTC datetimes.
Schedules are addressed by id or by name. ``fire`` carries out one firing plan in a
single transaction (see there).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from netfleet.core.errors import Conflict, InputError, NotFound, ScheduleError
from netfleet.jobs.model import JobSpec
from netfleet.jobs.schedule import FiringPlan, Schedule, ScheduleSpec, apply_overlap, first_fire
from netfleet.store.schema import jobs, schedules
from netfleet.store.sql import jobs as jobs_sql
from netfleet.store.sql.targets import check_change


def to_epoch(value: datetime | None) -> float | None:
    return value.timestamp() if value is not None else None


def from_epoch(value: float | None) -> datetime | None:
    return datetime.fromtimestamp(value, UTC) if value is not None else None


def _utc(value: float) -> datetime:
    return datetime.fromtimestamp(value, UTC)


def _row_to_schedule(row: sa.Row[Any]) -> Schedule:
    m = row._mapping
    template = m["job_template"]
    if isinstance(template, str):  # some drivers hand JSON back as text
        template = json.loads(template)
    spec = ScheduleSpec(
        name=m["name"],
        kind=m["kind"],
        expression=m["expression"],
        at=from_epoch(m["at"]),
        timezone=m["timezone"],
        job_template=JobSpec.model_validate(template),
        enabled=bool(m["enabled"]),
        start_at=from_epoch(m["start_at"]),
        end_at=from_epoch(m["end_at"]),
        misfire_policy=m["misfire_policy"],
        misfire_window_s=float(m["misfire_window_s"]),
        overlap=m["overlap"],
    )
    return Schedule(
        id=int(m["id"]),
        spec=spec,
        next_fire_at=from_epoch(m["next_fire_at"]),
        last_fire_at=from_epoch(m["last_fire_at"]),
        created_at=_utc(m["created_at"]),
        updated_at=_utc(m["updated_at"]),
    )


def _spec_values(spec: ScheduleSpec) -> dict[str, Any]:
    return {
        "name": spec.name,
        "kind": spec.kind,
        "expression": spec.expression,
        "at": to_epoch(spec.at),
        "timezone": spec.timezone,
        "job_template": spec.job_template.model_dump(mode="json", exclude_defaults=True),
        "enabled": spec.enabled,
        "start_at": to_epoch(spec.start_at),
        "end_at": to_epoch(spec.end_at),
        "misfire_policy": spec.misfire_policy,
        "misfire_window_s": spec.misfire_window_s,
        "overlap": spec.overlap,
    }


def _where_ref(ref: int | str) -> sa.ColumnElement[bool]:
    if isinstance(ref, int):
        return schedules.c.id == ref
    return schedules.c.name == ref


def _new_values(spec: ScheduleSpec, now: float) -> dict[str, Any]:
    """The stored columns of ``spec`` with its first firing after ``now``."""
    next_fire = first_fire(spec, _utc(now))
    if next_fire is None:
        raise ScheduleError(f"schedule {spec.name!r} would never fire (its time has passed)")
    return _spec_values(spec) | {"next_fire_at": to_epoch(next_fire), "updated_at": now}


def _check_new_spec(conn: sa.Connection, spec: ScheduleSpec, other_than: int | None) -> None:
    """``Conflict`` if another schedule has the name; ``ScheduleError`` for unknown targets."""
    query = sa.select(schedules.c.id).where(schedules.c.name == spec.name)
    if other_than is not None:
        query = query.where(schedules.c.id != other_than)
    if conn.execute(query).first() is not None:
        raise Conflict(f"schedule {spec.name!r} already exists")
    try:
        jobs_sql.resolve_targets(conn, spec.job_template)
        check_change(conn, spec.job_template)  # a template must render for every target
    except InputError as exc:
        raise ScheduleError(f"job template: {exc.message}") from None


def _fetch(conn: sa.Connection, schedule_id: int) -> Schedule:
    return _row_to_schedule(
        conn.execute(sa.select(schedules).where(schedules.c.id == schedule_id)).one()
    )


def create(conn: sa.Connection, spec: ScheduleSpec, now: float) -> Schedule:
    """Store a validated schedule; ``Conflict`` if the name is taken."""
    values = _new_values(spec, now) | {"created_at": now}
    _check_new_spec(conn, spec, other_than=None)
    new_id = conn.execute(
        sa.insert(schedules).values(**values).returning(schedules.c.id)
    ).scalar_one()
    return _fetch(conn, int(new_id))


def replace(conn: sa.Connection, ref: int | str, spec: ScheduleSpec, now: float) -> Schedule:
    """Replace a schedule's definition (same id); its next firing is computed afresh.
    Errors as for ``create``, and ``NotFound`` if absent."""
    values = _new_values(spec, now)
    row = conn.execute(sa.select(schedules.c.id).where(_where_ref(ref))).first()
    if row is None:
        raise NotFound(f"schedule {ref!r} not found")
    _check_new_spec(conn, spec, other_than=row.id)
    conn.execute(sa.update(schedules).where(schedules.c.id == row.id).values(**values))
    return _fetch(conn, row.id)


def get(conn: sa.Connection, ref: int | str) -> Schedule:
    """One schedule by id or name; ``NotFound`` if absent."""
    row = conn.execute(sa.select(schedules).where(_where_ref(ref))).first()
    if row is None:
        raise NotFound(f"schedule {ref!r} not found")
    return _row_to_schedule(row)


def list_all(conn: sa.Connection, enabled: bool | None) -> list[Schedule]:
    """All schedules by name (optionally only enabled or only paused ones)."""
    query = sa.select(schedules).order_by(schedules.c.name)
    if enabled is not None:
        query = query.where(schedules.c.enabled == enabled)
    return [_row_to_schedule(row) for row in conn.execute(query)]


def set_enabled(conn: sa.Connection, ref: int | str, enabled: bool, now: float) -> Schedule:
    """Pause or resume. Resuming a cron schedule restarts it from now: firings that fell
    into the pause are not misfires. A one-time schedule keeps its time (misfire rules)."""
    row = conn.execute(sa.select(schedules).where(_where_ref(ref))).first()
    if row is None:
        raise NotFound(f"schedule {ref!r} not found")
    current = _row_to_schedule(row)
    values: dict[str, Any] = {"enabled": enabled, "updated_at": now}
    if enabled and not current.enabled and current.spec.kind == "cron":
        values["next_fire_at"] = to_epoch(first_fire(current.spec, _utc(now)))
    conn.execute(sa.update(schedules).where(schedules.c.id == current.id).values(**values))
    return _fetch(conn, current.id)


def delete(conn: sa.Connection, ref: int | str) -> None:
    """Delete a schedule (its jobs stay, with ``schedule_id`` cleared); ``NotFound`` if absent."""
    result = conn.execute(sa.delete(schedules).where(_where_ref(ref)))
    if result.rowcount == 0:
        raise NotFound(f"schedule {ref!r} not found")


def due(conn: sa.Connection, now: float, limit: int) -> list[Schedule]:
    """Enabled schedules whose ``next_fire_at`` has come, earliest first — except those
    held by overlap ``queue`` (an earlier job still unfinished), so they cannot crowd
    out the rest."""
    held = (
        sa.select(jobs.c.id)
        .where(
            jobs.c.schedule_id == schedules.c.id,
            jobs.c.fire_time < schedules.c.next_fire_at,
            jobs.c.finished_at.is_(None),
        )
        .exists()
    )
    query = (
        sa.select(schedules)
        .where(
            schedules.c.enabled == sa.true(),
            schedules.c.next_fire_at.is_not(None),
            schedules.c.next_fire_at <= now,
            sa.not_(sa.and_(schedules.c.overlap == "queue", held)),
        )
        .order_by(schedules.c.next_fire_at, schedules.c.id)
        .limit(limit)
    )
    return [_row_to_schedule(row) for row in conn.execute(query)]


@dataclass(frozen=True, slots=True)
class FireResult:
    """What ``fire`` did for one due schedule."""

    won: bool
    """False: another scheduler advanced the schedule first (or it was paused/deleted)."""
    held: bool = False
    """Overlap ``queue``: the previous job is unfinished; nothing changed."""
    job_ids: tuple[int, ...] = ()
    """Jobs created by this call."""
    skipped: int = 0
    errors: tuple[str, ...] = ()
    """Firings whose job could not be created (e.g. a target device was deleted)."""


def fire(conn: sa.Connection, schedule: Schedule, plan: FiringPlan, now: float) -> FireResult:
    """Carry out a firing plan, exactly once across schedulers (one transaction: the caller's).

    Overlap control first (is the previous job unfinished?), then the conditional
    advance ``UPDATE ... WHERE next_fire_at = :planned_from`` — on PostgreSQL it
    row-locks the schedule, so a concurrent scheduler waits and then matches nothing —
    and only the winner inserts the jobs, each unique by ``(schedule_id, fire_time)``.
    A crash rolls everything back and leaves the firing due.
    """
    assert schedule.next_fire_at is not None
    expected = schedule.next_fire_at.timestamp()
    busy = False
    if plan.fire_times:
        busy = _unfinished_job(conn, schedule.id, plan.fire_times[0].timestamp()) is not None
    decision = apply_overlap(plan, schedule.spec.overlap, busy)
    if decision.held:
        return FireResult(won=True, held=True)
    values: dict[str, Any] = {
        "next_fire_at": to_epoch(decision.next_fire_at),
        "updated_at": now,
    }
    if decision.fire_times:
        values["last_fire_at"] = decision.fire_times[-1].timestamp()
    won = conn.execute(
        sa.update(schedules)
        .where(
            schedules.c.id == schedule.id,
            schedules.c.next_fire_at == expected,
            schedules.c.enabled == sa.true(),
        )
        .values(**values)
    ).rowcount
    if won != 1:
        return FireResult(won=False)
    created: list[int] = []
    errors: list[str] = []
    for fire_time in decision.fire_times:
        try:
            with conn.begin_nested():
                # All or nothing: a template that fails for any target stores no job.
                check_change(conn, schedule.spec.job_template)
                job_id, new = jobs_sql.insert_job(
                    conn,
                    schedule.spec.job_template,
                    now,
                    schedule_id=schedule.id,
                    fire_time=fire_time.timestamp(),
                    notify=conn.dialect.name == "postgresql",
                )
            if new:
                created.append(job_id)
        except (InputError, NotFound) as exc:
            errors.append(f"{fire_time.isoformat()}: {exc.message}")
    return FireResult(True, False, tuple(created), decision.skipped, tuple(errors))


def _unfinished_job(conn: sa.Connection, schedule_id: int, before_fire: float) -> int | None:
    found = conn.execute(
        sa.select(jobs.c.id)
        .where(
            jobs.c.schedule_id == schedule_id,
            jobs.c.fire_time < before_fire,
            jobs.c.finished_at.is_(None),
        )
        .order_by(jobs.c.fire_time.desc())
        .limit(1)
    ).scalar()
    return int(found) if found is not None else None


def earliest_next_fire(conn: sa.Connection, after: float) -> float | None:
    """The earliest ``next_fire_at`` after ``after`` of any enabled schedule (the loop's
    sleep)."""
    value = conn.execute(
        sa.select(sa.func.min(schedules.c.next_fire_at)).where(
            schedules.c.enabled == sa.true(), schedules.c.next_fire_at > after
        )
    ).scalar()
    return float(value) if value is not None else None


def fired_times(conn: sa.Connection, schedule_id: int) -> list[float]:
    """Every fire time that has a job, ascending (for tests and ``schedules show``)."""
    rows = conn.execute(
        sa.select(jobs.c.fire_time)
        .where(jobs.c.schedule_id == schedule_id)
        .order_by(jobs.c.fire_time)
    )
    return [float(r[0]) for r in rows]

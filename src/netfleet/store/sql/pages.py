"""Read-only SQL for dashboard pages that the other families do not serve: the
devices a draft job would target, and the sessions open to a device right now.

Every function runs inside a transaction the caller opened on ``conn``.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from netfleet.core.errors import InventoryError, ValidationError
from netfleet.core.inventory import FilterTerm, parse_filter
from netfleet.core.inventory_yaml import normalize_platform
from netfleet.jobs.model import JOB_STATES, MAX_DEVICES_PER_JOB, TASK_STATES, JobSpec, Targets
from netfleet.store.schema import device_labels, devices, jobs, session_holds, tasks
from netfleet.store.sql import sources
from netfleet.store.sql.holds import live
from netfleet.store.sql.targets import resolve_targets


@dataclass(frozen=True, slots=True)
class TargetPreview:
    """What a draft job's targets match: how many devices, the first names, or why none."""

    count: int
    names: tuple[str, ...]
    error: str | None = None


def preview_targets(conn: Connection, targets: Targets, limit: int) -> TargetPreview:
    """The devices ``targets`` resolve to, as a submitted job would (same resolution,
    same errors): the count and the first ``limit`` names, or the error message."""
    if targets.is_empty():
        return TargetPreview(0, (), None)
    if not targets.devices and not targets.groups and targets.filter:
        counted = _count_filter(conn, targets.filter, limit)
        if counted is not None:
            return counted
    probe = JobSpec(targets=targets, commands=["-"])
    try:
        chosen = resolve_targets(conn, probe)
    except ValidationError as exc:
        return TargetPreview(0, (), exc.message)
    return TargetPreview(len(chosen), tuple(name for _, name in chosen[:limit]))


def _glob(conn: Connection, column: sa.ColumnElement[str], pattern: str) -> sa.ColumnElement[bool]:
    """``column`` matches the shell glob ``pattern`` (only ``*`` and ``?``), case-sensitive,
    as ``fnmatchcase``: GLOB on SQLite, LIKE with escapes elsewhere."""
    if conn.dialect.name == "sqlite":
        return column.op("GLOB", is_comparison=True)(pattern)
    like = pattern.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return column.like(like.replace("*", "%").replace("?", "_"), escape="\\")


def _term_sql(conn: Connection, term: FilterTerm) -> sa.ColumnElement[bool] | None:
    """A filter term as SQL, or None when it needs Python (``[...]`` classes)."""
    if any("[" in v for v in term.values):
        return None
    if term.key in ("name", "host", "platform"):
        column = devices.c[term.key]
        values = (
            [normalize_platform(v) for v in term.values]
            if term.key == "platform"
            else [*term.values]
        )
        hit = sa.or_(*(_glob(conn, column, v) for v in values))
    else:
        kind = "group" if term.key == "group" else "tag"
        sub = sa.select(device_labels.c.device_id).where(
            device_labels.c.kind == kind,
            sa.or_(*(_glob(conn, device_labels.c.label, v) for v in term.values)),
        )
        hit = devices.c.id.in_(sub)
    return sa.not_(hit) if term.negate else hit


def _count_filter(conn: Connection, text: str, limit: int) -> TargetPreview | None:
    """A filter over the whole inventory counted in SQL, with the first ``limit`` names;
    None when a term needs Python matching or nothing matches (the caller then
    resolves as a job would, for the same error)."""
    try:
        terms = parse_filter(text)
    except InventoryError:
        return None
    conditions = [_term_sql(conn, t) for t in terms]
    if not conditions or any(c is None for c in conditions):
        return None
    where = sa.and_(
        *(c for c in conditions if c is not None), devices.c.id.not_in(sources.disabled_devices())
    )
    count = int(
        conn.execute(sa.select(sa.func.count()).select_from(devices).where(where)).scalar_one()
    )
    if count == 0:
        return None
    if count > MAX_DEVICES_PER_JOB:
        return TargetPreview(
            0, (), f"targets: {count} devices match; a job may target at most {MAX_DEVICES_PER_JOB}"
        )
    order = devices.c.name if conn.dialect.name == "sqlite" else devices.c.name.collate("C")
    names = conn.execute(sa.select(devices.c.name).where(where).order_by(order).limit(limit))
    return TargetPreview(count, tuple(str(n) for n in names.scalars()))


@dataclass(frozen=True, slots=True)
class WorkerSessions:
    """Sessions one worker has open to a device: running tasks and idle pooled ones."""

    worker_id: str
    running: int
    idle: int

    @property
    def total(self) -> int:
        return self.running + self.idle


def device_sessions(conn: Connection, device_id: int, now: float) -> list[WorkerSessions]:
    """Per worker, the sessions open to ``device_id`` now (live holds + running tasks)."""
    per: dict[str, list[int]] = {}
    running = conn.execute(
        sa.select(tasks.c.lease_owner, sa.func.count())
        .where(
            tasks.c.device_id == device_id,
            tasks.c.state == "running",
            tasks.c.lease_owner.is_not(None),
        )
        .group_by(tasks.c.lease_owner)
    )
    for owner, n in running:
        per.setdefault(str(owner), [0, 0])[0] += int(n)
    holds = conn.execute(
        sa.select(session_holds.c.worker_id, session_holds.c.held).where(
            session_holds.c.device_id == device_id,
            session_holds.c.held > 0,
            live(now),
        )
    )
    for worker, held in holds:
        per.setdefault(str(worker), [0, 0])[1] += int(held)
    return [WorkerSessions(w, r, i) for w, (r, i) in sorted(per.items())]


RECENT_TASKS = 5_000
"""The overview's error kinds and mean task time cover this many newest tasks."""


@dataclass(frozen=True, slots=True)
class OverviewCounts:
    """What the overview shows, from the jobs' counters and the newest tasks only, so
    that it costs the same with 100 or 10,000,000 tasks stored."""

    jobs: dict[str, int]
    tasks: dict[str, int]
    queue_depth: int
    duration_count: int
    duration_sum: float
    errors: dict[str, int]
    sample: int
    """How many of the newest tasks the errors and mean time were taken from."""


def overview_counts(conn: Connection, now: float, recent: int = RECENT_TASKS) -> OverviewCounts:
    """Jobs by state; tasks by state (summed from the jobs' counters); the tasks ready
    now (through the ready index); errors by kind and task times among the newest
    ``recent`` tasks."""
    job_counts: dict[str, int] = dict.fromkeys(JOB_STATES, 0)
    for state, n in conn.execute(sa.select(jobs.c.state, sa.func.count()).group_by(jobs.c.state)):
        job_counts[str(state)] = int(n)
    sums = conn.execute(
        sa.select(*(sa.func.coalesce(sa.func.sum(jobs.c[f"tasks_{s}"]), 0) for s in TASK_STATES))
    ).one()
    task_counts: dict[str, int] = {s: int(v) for s, v in zip(TASK_STATES, sums, strict=True)}
    depth = conn.execute(
        sa.select(sa.func.count()).where(
            tasks.c.state.in_(("queued", "retrying")), tasks.c.run_at <= now
        )
    ).scalar_one()
    newest = (
        sa.select(tasks.c.state, tasks.c.error_kind, tasks.c.started_at, tasks.c.finished_at)
        .order_by(tasks.c.id.desc())
        .limit(recent)
        .subquery()
    )
    duration = newest.c.finished_at - newest.c.started_at
    done = sa.and_(newest.c.finished_at.is_not(None), newest.c.started_at.is_not(None))
    sample = finished = 0
    total_s = 0.0
    errors: dict[str, int] = {}
    for state, kind, n, n_done, seconds in conn.execute(  # one pass over the sample
        sa.select(
            newest.c.state,
            newest.c.error_kind,
            sa.func.count(),
            sa.func.sum(sa.case((done, 1), else_=0)),
            sa.func.sum(sa.case((done, duration), else_=0.0)),
        ).group_by(newest.c.state, newest.c.error_kind)
    ):
        sample += int(n)
        finished += int(n_done or 0)
        total_s += float(seconds or 0.0)
        if state == "failed":
            key = str(kind or "unknown")
            errors[key] = errors.get(key, 0) + int(n)
    return OverviewCounts(
        jobs=job_counts,
        tasks=task_counts,
        queue_depth=int(depth),
        duration_count=finished,
        duration_sum=total_s,
        errors=errors,
        sample=sample,
    )

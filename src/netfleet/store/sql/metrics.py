"""Health and metrics SQL: the schema revision (readiness) and the aggregate counts
behind ``/metrics``."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from netfleet.jobs.model import JOB_STATES, TASK_STATES
from netfleet.store.schema import jobs, schedules, tasks
from netfleet.store.schema_reliability import schedule_skips

TASK_DURATION_BUCKETS: tuple[float, ...] = (
    0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0,
)  # fmt: skip
"""Upper bounds (seconds) of the task duration histogram."""

_MIGRATIONS = Path(__file__).parent.parent / "migrations"


def head_revision() -> str | None:
    """The newest migration revision this code knows."""
    return ScriptDirectory(str(_MIGRATIONS)).get_current_head()


def current_revision(conn: Connection) -> str | None:
    """The database's schema revision (``None`` before the first migration)."""
    if not sa.inspect(conn).has_table("alembic_version"):
        return None
    value = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
    return None if value is None else str(value)


@dataclass(frozen=True, slots=True)
class QueueSnapshot:
    """Aggregates over jobs and tasks for ``/metrics``."""

    jobs: dict[str, int]
    tasks: dict[str, int]
    queue_depth: int
    """Tasks ready to run now (queued or retrying, ``run_at`` passed)."""
    duration_buckets: tuple[tuple[float, int], ...]
    """Cumulative counts of finished task durations per upper bound (seconds)."""
    duration_count: int
    duration_sum: float
    errors: dict[str, int] = field(default_factory=dict)
    """Failed tasks by error kind."""
    schedule_skips: dict[tuple[str, str], int] = field(default_factory=dict)
    """Skipped firings by (schedule name, reason)."""


def queue_snapshot(conn: Connection, now: float) -> QueueSnapshot:
    """Counts of jobs and tasks by state, the ready queue, task durations, errors."""
    job_counts: dict[str, int] = dict.fromkeys(JOB_STATES, 0)
    for state, count in conn.execute(
        sa.select(jobs.c.state, sa.func.count()).group_by(jobs.c.state)
    ):
        job_counts[str(state)] = int(count)
    task_counts: dict[str, int] = dict.fromkeys(TASK_STATES, 0)
    for state, count in conn.execute(
        sa.select(tasks.c.state, sa.func.count()).group_by(tasks.c.state)
    ):
        task_counts[str(state)] = int(count)
    depth = conn.execute(
        sa.select(sa.func.count()).where(
            tasks.c.state.in_(("queued", "retrying")), tasks.c.run_at <= now
        )
    ).scalar_one()
    duration = tasks.c.finished_at - tasks.c.started_at
    columns: list[Any] = [
        sa.func.sum(sa.case((duration <= bound, 1), else_=0)) for bound in TASK_DURATION_BUCKETS
    ]
    columns += [sa.func.count(), sa.func.sum(duration)]
    row = conn.execute(
        sa.select(*columns).where(tasks.c.finished_at.is_not(None), tasks.c.started_at.is_not(None))
    ).one()
    n = len(TASK_DURATION_BUCKETS)
    errors = {
        str(kind or "unknown"): int(count)
        for kind, count in conn.execute(
            sa.select(tasks.c.error_kind, sa.func.count())
            .where(tasks.c.state == "failed")
            .group_by(tasks.c.error_kind)
        )
    }
    return QueueSnapshot(
        jobs=job_counts,
        tasks=task_counts,
        queue_depth=int(depth),
        duration_buckets=tuple(
            (bound, int(row[i] or 0)) for i, bound in enumerate(TASK_DURATION_BUCKETS)
        ),
        duration_count=int(row[n] or 0),
        duration_sum=float(row[n + 1] or 0.0),
        errors=errors,
        schedule_skips=skips(conn),
    )


def skips(conn: Connection) -> dict[tuple[str, str], int]:
    """Skipped firings by (schedule name, reason)."""
    rows = conn.execute(
        sa.select(schedules.c.name, schedule_skips.c.reason, schedule_skips.c.skipped).join(
            schedules, schedules.c.id == schedule_skips.c.schedule_id
        )
    )
    return {(str(r.name), str(r.reason)): int(r.skipped) for r in rows}


def count_skips(conn: Connection, schedule_id: int, by_reason: dict[str, int]) -> None:
    """Add skipped firings of a schedule, by reason."""
    for reason, n in sorted(by_reason.items()):
        if n <= 0:
            continue
        updated = conn.execute(
            schedule_skips.update()
            .where(schedule_skips.c.schedule_id == schedule_id, schedule_skips.c.reason == reason)
            .values(skipped=schedule_skips.c.skipped + n)
        ).rowcount
        if not updated:
            conn.execute(
                schedule_skips.insert().values(schedule_id=schedule_id, reason=reason, skipped=n)
            )

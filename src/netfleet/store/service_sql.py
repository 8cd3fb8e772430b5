"""SQL the REST service needs beyond the ``Store`` protocol (via ``Store.run_sync``).

Groups with member counts, deleting one finished job,
devices changed since a time (to retire pooled sessions), the schema revision
(readiness) and the aggregate counts behind ``/metrics``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic.script import ScriptDirectory

from netfleet.core.errors import Conflict, NotFound
from netfleet.jobs.model import JOB_STATES, TASK_STATES
from netfleet.store.interface import Store
from netfleet.store.schema import (
    device_labels,
    devices,
    jobs,
    task_events,
    task_outputs,
    tasks,
)

TASK_DURATION_BUCKETS: tuple[float, ...] = (
    0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0,
)  # fmt: skip
"""Upper bounds (seconds) of the task duration histogram."""

_MIGRATIONS = Path(__file__).with_name("migrations")


# --- inventory ------------------------------------------------------------------


async def list_groups(store: Store) -> list[tuple[str, int]]:
    """Every group name with its number of member devices, by name."""

    def select(conn: sa.Connection) -> list[tuple[str, int]]:
        rows = conn.execute(
            sa.select(device_labels.c.label, sa.func.count())
            .where(device_labels.c.kind == "group")
            .group_by(device_labels.c.label)
            .order_by(device_labels.c.label)
        )
        return [(str(r[0]), int(r[1])) for r in rows]

    return await store.run_sync(select, write=False)


async def changed_devices(store: Store, since: float) -> list[tuple[str, float]]:
    """Devices updated after ``since`` (name, updated_at): their sessions may be stale."""

    def select(conn: sa.Connection) -> list[tuple[str, float]]:
        rows = conn.execute(
            sa.select(devices.c.name, devices.c.updated_at).where(devices.c.updated_at > since)
        )
        return [(str(r[0]), float(r[1])) for r in rows]

    return await store.run_sync(select, write=False)


# --- jobs -------------------------------------------------------------------------


async def delete_job(store: Store, job_id: int) -> None:
    """Delete a finished job with its tasks, outputs and events.

    ``NotFound`` if absent, ``Conflict`` while it is still queued or running."""

    def delete(conn: sa.Connection) -> None:
        row = conn.execute(
            sa.select(jobs.c.state, jobs.c.finished_at).where(jobs.c.id == job_id)
        ).first()
        if row is None:
            raise NotFound(f"job {job_id} not found")
        if row.finished_at is None:
            raise Conflict(f"job {job_id} is {row.state}; cancel it or wait until it finishes")
        task_ids = sa.select(tasks.c.id).where(tasks.c.job_id == job_id)
        conn.execute(task_outputs.delete().where(task_outputs.c.task_id.in_(task_ids)))
        conn.execute(task_events.delete().where(task_events.c.job_id == job_id))
        conn.execute(tasks.delete().where(tasks.c.job_id == job_id))
        conn.execute(jobs.delete().where(jobs.c.id == job_id))

    await store.run_sync(delete)


# --- health and metrics -------------------------------------------------------------


def head_revision() -> str | None:
    """The newest migration revision this code knows."""
    return ScriptDirectory(str(_MIGRATIONS)).get_current_head()


async def current_revision(store: Store) -> str | None:
    """The database's schema revision (``None`` before the first migration)."""

    def select(conn: sa.Connection) -> str | None:
        if not sa.inspect(conn).has_table("alembic_version"):
            return None
        value = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
        return None if value is None else str(value)

    return await store.run_sync(select, write=False)


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


async def queue_snapshot(store: Store) -> QueueSnapshot:
    now = await store.now()

    def select(conn: sa.Connection) -> QueueSnapshot:
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
            sa.select(*columns).where(
                tasks.c.finished_at.is_not(None), tasks.c.started_at.is_not(None)
            )
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
        )

    return await store.run_sync(select, write=False)

"""Read-only SQL: jobs with their tasks and outputs, job lists and events, and the
pages the web dashboard shows.

``get_job`` loads every task and every output of a job at once; for jobs on
thousands of devices the dashboard pages through tasks instead (``job_tasks``)
and loads one task's outputs when it is opened.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from netfleet.core.errors import NotFound
from netfleet.jobs.model import TaskState
from netfleet.store.records import (
    CommandOutput,
    JobFilter,
    JobRecord,
    Page,
    TaskEvent,
    TaskRecord,
)
from netfleet.store.schema import jobs, task_events, task_outputs, tasks
from netfleet.store.sql.jobs import SpecCache, job_record, output_record, task_record

MAX_IDS = 500


# --- jobs -----------------------------------------------------------------------


def get_job(
    conn: Connection, specs: SpecCache, job_id: int, *, with_tasks: bool, with_outputs: bool
) -> JobRecord:
    row = conn.execute(sa.select(jobs).where(jobs.c.id == job_id)).first()
    if row is None:
        raise NotFound(f"job {job_id} not found")
    if not with_tasks:
        return job_record(row, specs, None)
    by_task: dict[int, list[CommandOutput]] = {}
    if with_outputs:
        outs = conn.execute(
            sa.select(task_outputs)
            .join(tasks, tasks.c.id == task_outputs.c.task_id)
            .where(tasks.c.job_id == job_id)
            .order_by(task_outputs.c.task_id, task_outputs.c.attempt, task_outputs.c.seq)
        )
        for o in outs:
            by_task.setdefault(o.task_id, []).append(output_record(o))
    task_rows = conn.execute(
        sa.select(tasks).where(tasks.c.job_id == job_id).order_by(tasks.c.device_name)
    )
    records = tuple(task_record(t, tuple(by_task.get(t.id, ()))) for t in task_rows)
    return job_record(row, specs, records)


def list_jobs(
    conn: Connection, specs: SpecCache, filt: JobFilter, limit: int, cursor: int | None
) -> Page:
    job_id: sa.ColumnElement[int] = jobs.c.id
    query = sa.select(jobs)
    if filt.device and conn.dialect.name == "sqlite":
        # Walk ix_tasks_device_name_job_id backwards: SQLite would run an EXISTS once
        # per job, newest first, and visit every job for a device that is in few.
        job_id = tasks.c.job_id
        query = (
            query.select_from(tasks.join(jobs, jobs.c.id == tasks.c.job_id))
            .where(tasks.c.device_name == filt.device)
            .group_by(tasks.c.job_id)
        )
    elif filt.device:  # PostgreSQL plans this as a semi-join on the same index
        query = query.where(
            sa.exists().where(tasks.c.job_id == jobs.c.id, tasks.c.device_name == filt.device)
        )
    query = query.order_by(job_id.desc()).limit(limit)
    if filt.states:
        query = query.where(jobs.c.state.in_(filt.states))
    if filt.schedule_id is not None:
        query = query.where(jobs.c.schedule_id == filt.schedule_id)
    if filt.created_after is not None:
        query = query.where(jobs.c.created_at >= filt.created_after)
    if filt.created_before is not None:
        query = query.where(jobs.c.created_at < filt.created_before)
    if cursor is not None:
        query = query.where(job_id < cursor)
    items = tuple(job_record(r, specs, None) for r in conn.execute(query))
    return Page(items=items, next_cursor=items[-1].id if len(items) >= limit else None)


def job_events(conn: Connection, job_id: int, after_id: int, limit: int) -> list[TaskEvent]:
    """The job's events after ``after_id``, oldest first; ``NotFound`` if no such job."""
    if conn.execute(sa.select(jobs.c.id).where(jobs.c.id == job_id)).first() is None:
        raise NotFound(f"job {job_id} not found")
    rows = conn.execute(
        sa.select(task_events)
        .where(task_events.c.job_id == job_id, task_events.c.id > after_id)
        .order_by(task_events.c.id)
        .limit(limit)
    )
    return [event_record(r) for r in rows]


def event_record(row: sa.Row[Any]) -> TaskEvent:
    return TaskEvent(
        id=row.id,
        job_id=row.job_id,
        task_id=row.task_id,
        at=row.at,
        kind=row.kind,
        message=row.message or "",
        data=dict(row.data) if isinstance(row.data, dict) else {},
    )


# --- dashboard pages ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TaskPage:
    """One page of a job's tasks (by device name) and how many tasks matched."""

    items: tuple[TaskRecord, ...]
    total: int
    offset: int
    limit: int

    @property
    def has_next(self) -> bool:
        return self.offset + len(self.items) < self.total


def _like_pattern(glob: str) -> str:
    """A SQL LIKE pattern (escape ``\\``) from a shell-style glob; plain text matches within."""
    escaped = glob.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    pattern = escaped.replace("*", "%").replace("?", "_")
    if "*" not in glob and "?" not in glob:
        pattern = f"%{pattern}%"
    return pattern


def job_tasks(
    conn: Connection,
    job_id: int,
    *,
    states: Sequence[TaskState],
    device: str | None,
    limit: int,
    offset: int,
) -> TaskPage:
    """A page of ``job_id``'s tasks (without outputs), by device name.

    ``device``: a glob (``edge-*``) or a substring of the device name."""
    where: list[sa.ColumnElement[bool]] = [tasks.c.job_id == job_id]
    if states:
        where.append(tasks.c.state.in_(tuple(states)))
    if device:
        where.append(tasks.c.device_name.like(_like_pattern(device), escape="\\"))
    total = conn.execute(sa.select(sa.func.count()).where(*where)).scalar_one()
    rows = conn.execute(
        sa.select(tasks)
        .where(*where)
        .order_by(tasks.c.device_name, tasks.c.id)
        .limit(limit)
        .offset(offset)
    )
    items = tuple(task_record(r) for r in rows)
    return TaskPage(items=items, total=int(total), offset=offset, limit=limit)


def task_with_outputs(conn: Connection, task_id: int) -> TaskRecord:
    """One task with the outputs of every attempt (by attempt, then seq); ``NotFound``."""
    row = conn.execute(sa.select(tasks).where(tasks.c.id == task_id)).first()
    if row is None:
        raise NotFound(f"task {task_id} not found")
    outs = conn.execute(
        sa.select(task_outputs)
        .where(task_outputs.c.task_id == task_id)
        .order_by(task_outputs.c.attempt, task_outputs.c.seq)
    )
    outputs: tuple[CommandOutput, ...] = tuple(output_record(o) for o in outs)
    return task_record(row, outputs)


def tasks_by_id(conn: Connection, job_id: int, task_ids: Sequence[int]) -> list[TaskRecord]:
    """The tasks of ``job_id`` among ``task_ids`` (the caller caps them), without outputs."""
    rows = conn.execute(
        sa.select(tasks).where(tasks.c.job_id == job_id, tasks.c.id.in_(list(task_ids)))
    )
    return [task_record(r) for r in rows]


def device_tasks(
    conn: Connection, device_id: int, *, limit: int, before_id: int | None
) -> list[TaskRecord]:
    """A device's most recent tasks (newest first), without outputs."""
    query = (
        sa.select(tasks)
        .where(tasks.c.device_id == device_id)
        .order_by(tasks.c.id.desc())
        .limit(limit)
    )
    if before_id is not None:
        query = query.where(tasks.c.id < before_id)
    return [task_record(r) for r in conn.execute(query)]


def latest_tasks(conn: Connection, device_ids: Sequence[int]) -> dict[int, TaskRecord]:
    """Each device's most recent task (by device id), for the ``device_ids`` given."""
    newest = (
        sa.select(sa.func.max(tasks.c.id))
        .where(tasks.c.device_id.in_(list(device_ids)))
        .group_by(tasks.c.device_id)
    )
    rows = conn.execute(sa.select(tasks).where(tasks.c.id.in_(newest)))
    return {int(r.device_id): task_record(r) for r in rows}


@dataclass(frozen=True, slots=True)
class Activity:
    """A job event with the name of its task's device (``None`` for job-level events)."""

    event: TaskEvent
    device: str | None


def job_activity(
    conn: Connection, job_id: int, *, after_id: int | None, limit: int
) -> list[Activity]:
    """A job's events, oldest first: the latest ``limit`` ones, or those after ``after_id``."""
    query = sa.select(task_events, tasks.c.device_name).select_from(
        task_events.outerjoin(tasks, tasks.c.id == task_events.c.task_id)
    )
    query = query.where(task_events.c.job_id == job_id).limit(limit)
    if after_id is None:
        query = query.order_by(task_events.c.id.desc())
    else:
        query = query.where(task_events.c.id > after_id).order_by(task_events.c.id)
    rows = list(conn.execute(query).all())
    if after_id is None:
        rows.reverse()
    return [Activity(event_record(r), r.device_name) for r in rows]

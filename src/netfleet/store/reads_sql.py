"""Job reads: one job with its tasks and outputs, job lists, events."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from netfleet.core.errors import NotFound
from netfleet.store.interface import CommandOutput, JobFilter, JobRecord, Page, TaskEvent
from netfleet.store.jobs_sql import SpecCache, job_record, output_record, task_record
from netfleet.store.schema import jobs, task_events, task_outputs, tasks


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
    query = sa.select(jobs).order_by(jobs.c.id.desc()).limit(limit)
    if filt.states:
        query = query.where(jobs.c.state.in_(filt.states))
    if filt.device:
        query = query.where(
            sa.exists().where(tasks.c.job_id == jobs.c.id, tasks.c.device_name == filt.device)
        )
    if filt.schedule_id is not None:
        query = query.where(jobs.c.schedule_id == filt.schedule_id)
    if filt.created_after is not None:
        query = query.where(jobs.c.created_at >= filt.created_after)
    if filt.created_before is not None:
        query = query.where(jobs.c.created_at < filt.created_before)
    if cursor is not None:
        query = query.where(jobs.c.id < cursor)
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
    return [
        TaskEvent(
            id=r.id,
            job_id=r.job_id,
            task_id=r.task_id,
            at=r.at,
            kind=r.kind,
            message=r.message,
            data=dict(r.data or {}),
        )
        for r in rows
    ]

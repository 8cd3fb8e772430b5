"""Read-only SQL the web dashboard needs beyond the ``Store`` protocol (via ``Store.run_sync``).

``Store.get_job`` loads every task and every output of a job at once; for jobs on
thousands of devices the dashboard pages through tasks instead and loads one
task's outputs when it is opened. Every function is one short read transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa

from netfleet.core.errors import NotFound
from netfleet.jobs.model import TaskState
from netfleet.store.interface import CommandOutput, Store, TaskEvent, TaskRecord
from netfleet.store.jobs_sql import output_record, task_record
from netfleet.store.schema import task_events, task_outputs, tasks

MAX_IDS = 500


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


async def job_tasks(
    store: Store,
    job_id: int,
    *,
    states: Sequence[TaskState] = (),
    device: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> TaskPage:
    """A page of ``job_id``'s tasks (without outputs), by device name.

    ``device``: a glob (``edge-*``) or a substring of the device name."""
    where: list[sa.ColumnElement[bool]] = [tasks.c.job_id == job_id]
    if states:
        where.append(tasks.c.state.in_(tuple(states)))
    if device:
        where.append(tasks.c.device_name.like(_like_pattern(device), escape="\\"))

    def select(conn: sa.Connection) -> TaskPage:
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

    return await store.run_sync(select, write=False)


async def task_with_outputs(store: Store, task_id: int) -> TaskRecord:
    """One task with the outputs of every attempt (by attempt, then seq); ``NotFound``."""

    def select(conn: sa.Connection) -> TaskRecord:
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

    return await store.run_sync(select, write=False)


async def tasks_by_id(store: Store, job_id: int, task_ids: Sequence[int]) -> list[TaskRecord]:
    """The tasks of ``job_id`` among ``task_ids`` (at most ``MAX_IDS``), without outputs."""
    ids = list(dict.fromkeys(task_ids))[:MAX_IDS]
    if not ids:
        return []

    def select(conn: sa.Connection) -> list[TaskRecord]:
        rows = conn.execute(sa.select(tasks).where(tasks.c.job_id == job_id, tasks.c.id.in_(ids)))
        return [task_record(r) for r in rows]

    return await store.run_sync(select, write=False)


async def device_tasks(
    store: Store, device_id: int, *, limit: int = 50, before_id: int | None = None
) -> list[TaskRecord]:
    """A device's most recent tasks (newest first), without outputs."""

    def select(conn: sa.Connection) -> list[TaskRecord]:
        query = (
            sa.select(tasks)
            .where(tasks.c.device_id == device_id)
            .order_by(tasks.c.id.desc())
            .limit(limit)
        )
        if before_id is not None:
            query = query.where(tasks.c.id < before_id)
        return [task_record(r) for r in conn.execute(query)]

    return await store.run_sync(select, write=False)


async def latest_tasks(store: Store, device_ids: Sequence[int]) -> dict[int, TaskRecord]:
    """Each device's most recent task (by device id), for the ``device_ids`` given."""
    ids = list(dict.fromkeys(device_ids))[:MAX_IDS]
    if not ids:
        return {}
    newest = (
        sa.select(sa.func.max(tasks.c.id))
        .where(tasks.c.device_id.in_(ids))
        .group_by(tasks.c.device_id)
    )

    def select(conn: sa.Connection) -> dict[int, TaskRecord]:
        rows = conn.execute(sa.select(tasks).where(tasks.c.id.in_(newest)))
        return {int(r.device_id): task_record(r) for r in rows}

    return await store.run_sync(select, write=False)


@dataclass(frozen=True, slots=True)
class Activity:
    """A job event with the name of its task's device (``None`` for job-level events)."""

    event: TaskEvent
    device: str | None


async def job_activity(
    store: Store, job_id: int, *, after_id: int | None = None, limit: int = 100
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

    def select(conn: sa.Connection) -> list[Activity]:
        rows = list(conn.execute(query).all())
        if after_id is None:
            rows.reverse()
        return [
            Activity(
                TaskEvent(
                    id=r.id,
                    job_id=r.job_id,
                    task_id=r.task_id,
                    at=r.at,
                    kind=r.kind,
                    message=r.message or "",
                    data=r.data if isinstance(r.data, dict) else {},
                ),
                r.device_name,
            )
            for r in rows
        ]

    return await store.run_sync(select, write=False)

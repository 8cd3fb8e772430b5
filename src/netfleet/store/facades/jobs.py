"""Façades of jobs and their reads: ``store.jobs``, ``store.reads``, ``store.metrics``."""

from __future__ import annotations

import asyncio
import builtins
from collections.abc import Sequence

from sqlalchemy.engine import Connection

from netfleet.core.errors import NotFound
from netfleet.jobs.changes import check_rollback
from netfleet.jobs.model import JobSpec, TaskState, parse_job_spec
from netfleet.jobs.render import render_targets
from netfleet.store.facades import MAX_ID, Facade, clamp
from netfleet.store.records import JobFilter, JobRecord, Page, TaskEvent, TaskRecord
from netfleet.store.sql import jobs as jobs_sql
from netfleet.store.sql import metrics as metrics_sql
from netfleet.store.sql import reads as reads_sql
from netfleet.store.sql import targets as targets_sql
from netfleet.store.sql.metrics import QueueSnapshot
from netfleet.store.sql.reads import MAX_IDS, Activity, TaskPage


def check_id(kind: str, value: int) -> None:
    """Ids outside the 64-bit range cannot exist (and would overflow the drivers)."""
    if not 0 < value <= MAX_ID:
        raise NotFound(f"{kind} {value} not found")


class Jobs(Facade):
    """Jobs: submit (one task per device), read, cancel, delete."""

    async def submit(
        self,
        spec: JobSpec,
        *,
        schedule_id: int | None = None,
        fire_time: float | None = None,
        submitted_by: str | None = None,
    ) -> JobRecord:
        """Validate (unknown devices/groups, empty target, sizes), then store the job and one
        task per device in one transaction. Returns the existing job for a repeated
        ``idempotency_key`` or ``(schedule_id, fire_time)``. Nothing is stored on error.
        ``submitted_by`` (who asks) may not approve the job, if it needs approval."""
        spec = parse_job_spec(spec)
        db = self._db
        if spec.template is not None or spec.rollback is not None:
            await self._check_change(spec)

        def op(conn: Connection) -> JobRecord:
            job_id, _created = jobs_sql.insert_job(
                conn,
                spec,
                db.clock(conn),
                schedule_id=schedule_id,
                fire_time=fire_time,
                notify=db.postgres,
                submitted_by=submitted_by,
            )
            return reads_sql.get_job(conn, db.specs, job_id, with_tasks=False, with_outputs=False)

        job = await db.run(op, what="submit a job")
        db.wake()
        return job

    async def _check_change(self, spec: JobSpec) -> None:
        """A template must render for every target, and rollback must exist on each
        target's platform; ``ValidationError`` naming devices (and template lines) if not."""
        targets = await self._db.run(
            lambda c: targets_sql.target_specs(c, spec),
            what="resolve the targets of a change",
            write=False,
            idempotent=True,
        )
        if spec.rollback is not None and spec.rollback.enabled:
            check_rollback((d.name, d.platform) for d in targets)
        if spec.template is not None:
            if len(targets) > 200:  # CPU work: keep the event loop responsive
                await asyncio.to_thread(render_targets, spec, targets)
            else:
                render_targets(spec, targets)

    async def get(self, job_id: int, *, tasks: bool = True, outputs: bool = True) -> JobRecord:
        """``NotFound`` if absent."""
        check_id("job", job_id)
        return await self._db.run(
            lambda c: reads_sql.get_job(
                c, self._db.specs, job_id, with_tasks=tasks, with_outputs=outputs
            ),
            what=f"read job {job_id}",
            write=False,
            idempotent=True,
        )

    async def list(
        self, filt: JobFilter | None = None, *, limit: int = 50, cursor: int | None = None
    ) -> Page:
        """Jobs (``JobRecord`` without tasks), newest first."""
        cursor = None if cursor is None else clamp(cursor)
        schedule_id = None if filt is None else filt.schedule_id
        if schedule_id is not None and clamp(schedule_id) != schedule_id:
            return Page(items=(), next_cursor=None)
        return await self._db.run(
            lambda c: reads_sql.list_jobs(
                c, self._db.specs, filt or JobFilter(), max(1, min(limit, 1000)), cursor
            ),
            what="list jobs",
            write=False,
            idempotent=True,
        )

    async def cancel(self, job_id: int) -> JobRecord:
        """Cancel queued tasks now; flag running ones (workers see it via heartbeats)."""
        check_id("job", job_id)
        db = self._db

        def op(conn: Connection) -> JobRecord:
            jobs_sql.cancel_job(conn, job_id, db.clock(conn))
            return reads_sql.get_job(conn, db.specs, job_id, with_tasks=True, with_outputs=False)

        return await db.run(op, what=f"cancel job {job_id}")

    async def events(
        self, job_id: int, *, after_id: int = 0, limit: int = 1000
    ) -> builtins.list[TaskEvent]:
        """The job's events after ``after_id``, oldest first; ``NotFound`` if no such job."""
        check_id("job", job_id)
        after_id = clamp(after_id)
        return await self._db.run(
            lambda c: reads_sql.job_events(c, job_id, after_id, max(1, min(limit, 10_000))),
            what=f"read events of job {job_id}",
            write=False,
            idempotent=True,
        )

    async def delete(self, job_id: int) -> None:
        """Delete a finished job with its tasks, outputs and events.

        ``NotFound`` if absent, ``Conflict`` while it is still queued or running."""
        await self._db.run(lambda c: jobs_sql.delete_job(c, job_id), what=f"delete job {job_id}")

    async def delete_finished(self, older_than_s: float) -> int:
        """Retention: delete jobs finished more than ``older_than_s`` ago; returns the count."""
        db = self._db
        total = 0
        while True:
            n = await db.run(
                lambda c: jobs_sql.delete_finished_jobs(c, db.clock(c) - older_than_s),
                what="delete old jobs",
            )
            total += n
            if n == 0:
                return total


class Reads(Facade):
    """What the dashboard shows: pages of tasks, single tasks, activity."""

    async def job_tasks(
        self,
        job_id: int,
        *,
        states: Sequence[TaskState] = (),
        device: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> TaskPage:
        """A page of ``job_id``'s tasks (without outputs), by device name.

        ``device``: a glob (``edge-*``) or a substring of the device name."""
        return await self._db.run(
            lambda c: reads_sql.job_tasks(
                c, job_id, states=states, device=device, limit=limit, offset=offset
            ),
            what=f"read tasks of job {job_id}",
            write=False,
        )

    async def task_with_outputs(self, task_id: int) -> TaskRecord:
        """One task with the outputs of every attempt (by attempt, then seq); ``NotFound``."""
        return await self._db.run(
            lambda c: reads_sql.task_with_outputs(c, task_id),
            what=f"read task {task_id}",
            write=False,
        )

    async def tasks_by_id(self, job_id: int, task_ids: Sequence[int]) -> list[TaskRecord]:
        """The tasks of ``job_id`` among ``task_ids`` (at most ``MAX_IDS``), without outputs."""
        ids = list(dict.fromkeys(task_ids))[:MAX_IDS]
        if not ids:
            return []
        return await self._db.run(
            lambda c: reads_sql.tasks_by_id(c, job_id, ids), what="read tasks", write=False
        )

    async def device_tasks(
        self, device_id: int, *, limit: int = 50, before_id: int | None = None
    ) -> list[TaskRecord]:
        """A device's most recent tasks (newest first), without outputs."""
        return await self._db.run(
            lambda c: reads_sql.device_tasks(c, device_id, limit=limit, before_id=before_id),
            what="read a device's tasks",
            write=False,
        )

    async def latest_tasks(self, device_ids: Sequence[int]) -> dict[int, TaskRecord]:
        """Each device's most recent task (by device id), for the ``device_ids`` given."""
        ids = list(dict.fromkeys(device_ids))[:MAX_IDS]
        if not ids:
            return {}
        return await self._db.run(
            lambda c: reads_sql.latest_tasks(c, ids), what="read latest tasks", write=False
        )

    async def job_activity(
        self, job_id: int, *, after_id: int | None = None, limit: int = 100
    ) -> list[Activity]:
        """A job's events, oldest first: the latest ``limit`` ones, or those after
        ``after_id``."""
        return await self._db.run(
            lambda c: reads_sql.job_activity(c, job_id, after_id=after_id, limit=limit),
            what=f"read activity of job {job_id}",
            write=False,
        )


class Metrics(Facade):
    """Aggregates for ``/metrics`` and the schema revision for readiness."""

    async def queue_snapshot(self) -> QueueSnapshot:
        db = self._db
        return await db.run(
            lambda c: metrics_sql.queue_snapshot(c, db.clock(c)),
            what="read queue metrics",
            write=False,
        )

    async def count_schedule_skips(self, schedule_id: int, by_reason: dict[str, int]) -> None:
        """Add skipped firings of a schedule by reason (``misfire``, ``overlap``)."""
        await self._db.run(
            lambda c: metrics_sql.count_skips(c, schedule_id, by_reason),
            what="count skipped schedule firings",
        )

    async def current_revision(self) -> str | None:
        """The database's schema revision (``None`` before the first migration)."""
        return await self._db.run(
            metrics_sql.current_revision, what="read the schema revision", write=False
        )

    @staticmethod
    def head_revision() -> str | None:
        """The newest migration revision this code knows."""
        return metrics_sql.head_revision()

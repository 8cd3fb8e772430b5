"""The Python API: submit jobs to the durable queue and read their results.

    async with Netfleet("sqlite:///netfleet.db") as nf:
        await nf.import_inventory("inventory.yaml")
        job = await nf.submit(groups=["core"], commands=["show version"])
        job = await nf.wait(job.id, timeout=300)
        for task in job.tasks:
            print(task.device, task.state, [r.output for r in task.results])

Workers (``netfleet worker``) run the tasks; this API only talks to the store.
"""

from __future__ import annotations

import asyncio
import builtins
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from netfleet.client_schedules import ScheduleMethods
from netfleet.core.errors import DeadlineExceeded, StoreError
from netfleet.core.settings import Settings
from netfleet.jobs.model import JobSpec, JobState, TaskCounts, TaskState, parse_job_spec
from netfleet.jobs.policy import check_job_policy
from netfleet.store import SqlStore, open_store
from netfleet.store.interface import CommandOutput, ImportReport, JobFilter, JobRecord, TaskRecord


@dataclass(frozen=True, slots=True)
class TaskResult:
    """One device's part of a job."""

    id: int
    device: str
    state: TaskState
    attempts: int
    error: str | None
    error_kind: str | None
    results: tuple[CommandOutput, ...]
    """Per-command results of the latest attempt (command, output, parsed, ok, error, timings)."""
    all_attempts: tuple[CommandOutput, ...]
    started_at: float | None
    finished_at: float | None

    @property
    def ok(self) -> bool:
        return self.state == "succeeded"


@dataclass(frozen=True, slots=True)
class Job:
    """A job and (when read with tasks) its per-device results."""

    id: int
    state: JobState
    spec: JobSpec
    counts: TaskCounts
    created_at: float
    finished_at: float | None
    tasks: tuple[TaskResult, ...]

    @property
    def finished(self) -> bool:
        return self.finished_at is not None

    @property
    def ok(self) -> bool:
        return self.state == "succeeded"

    @classmethod
    def from_record(cls, record: JobRecord) -> Job:
        return cls(
            id=record.id,
            state=record.state,
            spec=record.spec,
            counts=record.counts,
            created_at=record.created_at,
            finished_at=record.finished_at,
            tasks=tuple(_task(t) for t in record.tasks or ()),
        )


def _task(t: TaskRecord) -> TaskResult:
    return TaskResult(
        id=t.id,
        device=t.device_name,
        state=t.state,
        attempts=t.attempt,
        error=t.error,
        error_kind=t.error_kind,
        results=tuple(t.last_outputs()),
        all_attempts=t.outputs,
        started_at=t.started_at,
        finished_at=t.finished_at,
    )


class Netfleet(ScheduleMethods):
    """A connection to the netfleet store (SQLite file or PostgreSQL)."""

    def __init__(
        self,
        db_url: str | None = None,
        *,
        settings: Settings | None = None,
        secret_key: str | bytes | None = None,
    ) -> None:
        self._db_url = db_url
        self._settings = settings
        self._secret_key = secret_key
        self._store: SqlStore | None = None

    async def __aenter__(self) -> Netfleet:
        await self.open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def open(self) -> None:
        if self._store is None:
            self._store = await open_store(
                self._db_url, settings=self._settings, secret_key=self._secret_key
            )

    async def close(self) -> None:
        if self._store is not None:
            await self._store.close()
            self._store = None

    @property
    def store(self) -> SqlStore:
        if self._store is None:
            raise StoreError("Netfleet is not open: use 'async with Netfleet(...) as nf'")
        return self._store

    async def import_inventory(self, path: str | Path) -> ImportReport:
        """Load a netfleet/simulator YAML or Nornir inventory into the store (upsert by name)."""
        from netfleet.core.inventory import load_inventory

        inventory = load_inventory(path)
        return await self.store.import_devices(inventory.devices)

    async def submit(
        self,
        *,
        devices: Sequence[str] = (),
        groups: Sequence[str] = (),
        filter: str | None = None,
        commands: Sequence[str] = (),
        config: Sequence[str] = (),
        name: str | None = None,
        **options: Any,
    ) -> Job:
        """Queue a job; options are ``JobOptions`` fields (priority, max_attempts, ...).

        Raises ``ValidationError`` naming the bad field, unknown devices or groups."""
        spec = parse_job_spec(
            {
                "targets": {"devices": list(devices), "groups": list(groups), "filter": filter},
                "commands": list(commands),
                "config": list(config),
                "options": options,
                "name": name,
            }
        )
        return await self.submit_spec(spec)

    async def submit_spec(self, spec: JobSpec | dict[str, Any]) -> Job:
        """Queue a job. Privileged commands in a command job need
        ``allow_privileged_commands=True`` (``CommandNotAllowed`` otherwise)."""
        parsed = parse_job_spec(spec)
        check_job_policy(parsed, admin=True)
        return Job.from_record(await self.store.submit(parsed))

    async def get(self, job_id: int) -> Job:
        return Job.from_record(await self.store.get_job(job_id))

    async def wait(self, job_id: int, timeout: float | None = None, poll: float = 0.2) -> Job:
        """Return the job once finished; ``DeadlineExceeded`` after ``timeout`` seconds."""
        deadline = None if timeout is None else time.monotonic() + timeout
        delay = min(0.02, poll)
        while True:
            record = await self.store.get_job(job_id, tasks=False)
            if record.finished:
                return await self.get(job_id)
            if deadline is not None and time.monotonic() >= deadline:
                raise DeadlineExceeded(
                    f"job {job_id} still {record.state} after {timeout}s "
                    f"({record.counts.total - record.counts.queued} of "
                    f"{record.counts.total} tasks started)"
                )
            sleep = delay if deadline is None else min(delay, max(0.0, deadline - time.monotonic()))
            await asyncio.sleep(sleep)
            delay = min(delay * 2, poll)

    async def cancel(self, job_id: int) -> Job:
        return Job.from_record(await self.store.cancel(job_id))

    async def list(
        self,
        *,
        state: JobState | Sequence[JobState] | None = None,
        device: str | None = None,
        schedule_id: int | None = None,
        limit: int = 50,
    ) -> builtins.list[Job]:
        """Recent jobs, newest first (without task details; ``get`` a job for those)."""
        states: tuple[JobState, ...] = ()
        if isinstance(state, str):
            states = (state,)
        elif state is not None:
            states = tuple(state)
        page = await self.store.list_jobs(
            JobFilter(states=states, device=device, schedule_id=schedule_id), limit=limit
        )
        return [Job.from_record(r) for r in page.items]

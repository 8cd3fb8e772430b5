"""What the Python API returns: jobs and their per-device results."""

from __future__ import annotations

from dataclasses import dataclass

from netfleet.jobs.model import JobSpec, JobState, TaskCounts, TaskState
from netfleet.store.records import CommandOutput, JobRecord, TaskRecord


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
            tasks=tuple(task_result(t) for t in record.tasks or ()),
        )


def task_result(t: TaskRecord) -> TaskResult:
    """The API's view of a stored task."""
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

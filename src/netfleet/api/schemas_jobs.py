"""Request and response bodies of the jobs and events routes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any

from fastapi import Path
from pydantic import BaseModel, ConfigDict, Field

from netfleet.jobs.changes import CHANGE_RECORD, change_summary
from netfleet.jobs.model import JobSpec, JobState, TaskState
from netfleet.store.records import CommandOutput, JobRecord, TaskEvent, TaskRecord

JobId = Annotated[int, Path(ge=1, le=2**62, description="Job id")]
"""A job id in a route path."""


class JobSubmit(JobSpec):
    """A job: ``targets``, exactly one of ``commands`` / ``config`` / ``template`` (or
    ``backup``), ``options``; config jobs may add ``checks`` and ``rollback``
    (docs/changes.md).

    ``run_at`` (one-time job) is a shortcut for ``options.run_at``: the job's tasks
    are not claimed before that time."""

    run_at: datetime | None = Field(None, description="Run once, not before this time.")

    def to_spec(self, idempotency_key: str | None = None) -> JobSpec:
        data = self.model_dump(exclude={"run_at"}, exclude_unset=False)
        options = dict(data.get("options") or {})
        if self.run_at is not None:
            options["run_at"] = self.run_at
        if idempotency_key and not options.get("idempotency_key"):
            options["idempotency_key"] = idempotency_key
        data["options"] = options
        return JobSpec.model_validate(data)


class Counts(BaseModel):
    queued: int
    retrying: int
    running: int
    succeeded: int
    failed: int
    cancelled: int
    total: int


class JobSummary(BaseModel):
    id: int
    name: str | None
    state: JobState
    kind: str
    counts: Counts
    created_at: float
    finished_at: float | None
    schedule_id: int | None
    fire_time: float | None
    cancel_requested: bool
    run_at: datetime | None
    targets: dict[str, Any]

    @classmethod
    def of(cls, job: JobRecord) -> JobSummary:
        return cls(
            id=job.id,
            name=job.spec.name,
            state=job.state,
            kind=job.spec.kind,
            counts=Counts(**job.counts.as_dict()),
            created_at=job.created_at,
            finished_at=job.finished_at,
            schedule_id=job.schedule_id,
            fire_time=job.fire_time,
            cancel_requested=job.cancel_requested,
            run_at=job.spec.options.run_at,
            targets=job.spec.targets.model_dump(mode="json"),
        )


class JobPage(BaseModel):
    items: list[JobSummary]
    next_cursor: int | None


class CommandResultOut(BaseModel):
    attempt: int
    seq: int
    command: str
    output: str
    parsed: list[dict[str, Any]] | None
    ok: bool
    error: str | None
    error_kind: str | None
    started_at: float
    duration_ms: float

    model_config = ConfigDict(from_attributes=True)

    @classmethod
    def of(cls, out: CommandOutput) -> CommandResultOut:
        return cls.model_validate(out)


class TaskChangeOut(BaseModel):
    """A config task's change: its diff, checks and rollback (``netfleet.jobs.changes``)."""

    diff_source: str = Field(
        description="device: the device's candidate diff; running: the running "
        "configuration read before and after the push; predicted: computed by netfleet "
        "from the running configuration (not the device's own); lines: the lines as sent."
    )
    predicted: bool
    baseline: str | None = Field(
        None,
        description="Predicted diffs: against the latest backup, or the device's "
        "running configuration read for the dry run.",
    )
    lines: list[str] | None = Field(None, description="The rendered lines (template jobs).")
    checks: list[dict[str, Any]]
    checks_ok: bool
    rollback_requested: bool
    rolled_back: bool
    rollback_reason: str | None
    applied_lines: list[str] = Field(
        default_factory=list,
        description="When a line failed: the lines the device took before it (live unless "
        "rolled back; none where a candidate was discarded).",
    )
    failed_line: str | None = Field(None, description="The line the device rejected.")
    partially_applied: bool = Field(
        False, description="Some, not all, of the lines were applied (or may have been)."
    )

    @classmethod
    def of(cls, outputs: Sequence[CommandOutput]) -> TaskChangeOut | None:
        summary = change_summary(outputs)
        return None if summary is None else cls.model_validate(summary)


class TaskOut(BaseModel):
    id: int
    device: str
    device_id: int | None
    state: TaskState
    attempts: int = Field(description="Attempts started so far.")
    max_attempts: int
    error: str | None
    error_kind: str | None
    created_at: float
    started_at: float | None
    finished_at: float | None
    duration_ms: float | None
    results: list[CommandResultOut] = Field(description="The latest attempt's command results.")
    earlier_results: list[CommandResultOut] | None = Field(
        None, description="Results of earlier attempts (with ?all_attempts=true)."
    )
    # --- safe changes (config tasks): diff, checks, rollback
    diff: str | None = Field(None, description="Config: the (dry-run) diff of the latest attempt.")
    change: TaskChangeOut | None = None

    @classmethod
    def of(cls, task: TaskRecord, *, all_attempts: bool = False) -> TaskOut:
        latest = task.last_outputs()
        earlier = None
        if all_attempts:
            last = latest[0].attempt if latest else None
            earlier = [CommandResultOut.of(o) for o in task.outputs if o.attempt != last]
        duration = None
        if task.started_at is not None and task.finished_at is not None:
            duration = round((task.finished_at - task.started_at) * 1000, 3)
        return cls(
            id=task.id,
            device=task.device_name,
            device_id=task.device_id,
            state=task.state,
            attempts=task.attempt,
            max_attempts=task.max_attempts,
            error=task.error,
            error_kind=task.error_kind,
            created_at=task.created_at,
            started_at=task.started_at,
            finished_at=task.finished_at,
            duration_ms=duration,
            results=[CommandResultOut.of(o) for o in latest if o.command != CHANGE_RECORD],
            earlier_results=earlier,
            diff=next((o.output or None for o in latest if o.command == CHANGE_RECORD), None),
            change=TaskChangeOut.of(latest),
        )


class JobDetail(JobSummary):
    spec: dict[str, Any]
    tasks: list[TaskOut]

    @classmethod
    def detail(cls, job: JobRecord, *, all_attempts: bool = False) -> JobDetail:
        summary = JobSummary.of(job)
        return cls(
            **summary.model_dump(),
            spec=job.spec.model_dump(mode="json", exclude_defaults=True),
            tasks=[TaskOut.of(t, all_attempts=all_attempts) for t in job.tasks or ()],
        )


class EventOut(BaseModel):
    id: int
    job_id: int
    task_id: int | None
    at: float
    kind: str
    message: str
    data: dict[str, Any]

    @classmethod
    def of(cls, event: TaskEvent) -> EventOut:
        return cls(
            id=event.id,
            job_id=event.job_id,
            task_id=event.task_id,
            at=event.at,
            kind=event.kind,
            message=event.message,
            data=dict(event.data),
        )


class EventPage(BaseModel):
    items: list[EventOut]
    next_after: int = Field(description="Pass back as `after` to get only newer events.")
    job_state: JobState
    finished: bool

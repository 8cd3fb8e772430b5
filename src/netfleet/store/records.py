"""The store's record types: what the store's façades take and return.

Times are float seconds since the Unix epoch (UTC); see ``netfleet.store``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from netfleet.core.models import CommandResult, DeviceSpec
from netfleet.jobs.changes import change_summary
from netfleet.jobs.model import JobKind, JobSpec, JobState, TaskCounts, TaskState

TaskStatus = Literal["succeeded", "failed", "cancelled"]
"""What a worker reports when it finishes an attempt."""
WorkerState = Literal["starting", "running", "draining", "stopped"]


# --- inventory ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CredentialRecord:
    """A stored credential, without its secrets (those are write-only)."""

    id: int
    name: str
    username: str
    has_password: bool
    has_private_key: bool
    has_enable_secret: bool
    use_agent: bool
    created_at: float
    updated_at: float


@dataclass(frozen=True, slots=True)
class GroupCredentialRecord:
    """A group's default credential (by name): devices of the group that name no
    credential of their own log in with it."""

    group: str
    credential: str
    username: str
    devices: int
    """Devices in the group now (with or without credentials of their own)."""
    created_at: float
    updated_at: float


@dataclass(frozen=True, slots=True)
class DeviceRecord:
    """A stored device. ``spec.credentials`` carry usernames only (secrets blanked)
    unless fetched with ``with_secrets=True``; ``credential_names`` lists them in order."""

    id: int
    spec: DeviceSpec
    credential_names: tuple[str, ...]
    generation: int
    """Bumped on every change of the device or of one of its credentials."""
    created_at: float
    updated_at: float

    @property
    def name(self) -> str:
        return self.spec.name


@dataclass(frozen=True, slots=True)
class ImportRow:
    """One line of an inventory import report."""

    name: str
    action: Literal["created", "updated", "unchanged", "error"]
    error: str | None = None


@dataclass(frozen=True, slots=True)
class ImportReport:
    rows: tuple[ImportRow, ...]

    def count(self, action: str) -> int:
        return sum(1 for r in self.rows if r.action == action)

    @property
    def ok(self) -> bool:
        return not any(r.action == "error" for r in self.rows)


# --- jobs, tasks, outputs, events ---------------------------------------------


@dataclass(frozen=True, slots=True)
class CommandOutput:
    """One command's result in one attempt of one task (stored per command, per attempt)."""

    task_id: int
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

    def to_dict(self) -> dict[str, Any]:
        return {
            "attempt": self.attempt,
            "seq": self.seq,
            "command": self.command,
            "output": self.output,
            "parsed": self.parsed,
            "ok": self.ok,
            "error": self.error,
            "error_kind": self.error_kind,
            "started_at": self.started_at,
            "duration_ms": self.duration_ms,
        }


@dataclass(frozen=True, slots=True)
class TaskRecord:
    """One task: a job's work on one device."""

    id: int
    job_id: int
    device_id: int | None
    """``None`` once the device was deleted (``device_name`` stays)."""
    device_name: str
    state: TaskState
    attempt: int
    """Attempts started so far (0 before the first claim)."""
    max_attempts: int
    priority: int
    run_at: float
    lease_owner: str | None
    lease_expires_at: float | None
    deadline_at: float | None
    exclusive: bool
    cancel_requested: bool
    error: str | None
    error_kind: str | None
    created_at: float
    started_at: float | None
    finished_at: float | None
    outputs: tuple[CommandOutput, ...] = ()
    """Filled by ``get_job(..., outputs=True)``: every attempt's outputs, by attempt then seq."""

    def last_outputs(self) -> list[CommandOutput]:
        """The outputs of the latest attempt that produced any."""
        if not self.outputs:
            return []
        last = max(o.attempt for o in self.outputs)
        return [o for o in self.outputs if o.attempt == last]

    # --- a config task's change (``netfleet.jobs.changes``), from its latest attempt
    @property
    def change(self) -> dict[str, Any] | None:
        """The change summary (diff, checks, rollback) of the latest attempt, if any."""
        return change_summary(self.last_outputs())

    @property
    def diff(self) -> str | None:
        change = self.change
        diff = change.get("diff") if change else None
        return diff if isinstance(diff, str) else None

    @property
    def rolled_back(self) -> bool | None:
        change = self.change
        return None if change is None else bool(change.get("rolled_back"))

    @property
    def rollback_reason(self) -> str | None:
        change = self.change
        reason = change.get("rollback_reason") if change else None
        return reason if isinstance(reason, str) else None

    @property
    def checks(self) -> list[dict[str, Any]]:
        change = self.change
        checks = change.get("checks") if change else None
        return list(checks) if isinstance(checks, list) else []


@dataclass(frozen=True, slots=True)
class JobRecord:
    """A job, its derived state and (optionally) its tasks."""

    id: int
    state: JobState
    spec: JobSpec
    counts: TaskCounts
    created_at: float
    finished_at: float | None
    schedule_id: int | None
    fire_time: float | None
    idempotency_key: str | None
    cancel_requested: bool
    tasks: tuple[TaskRecord, ...] | None = None
    """``None`` unless requested (``get_job(..., tasks=True)``)."""

    @property
    def finished(self) -> bool:
        return self.finished_at is not None


@dataclass(frozen=True, slots=True)
class TaskEvent:
    """Something that happened to a task or job (claimed, connected, command, retry ...)."""

    id: int
    job_id: int
    task_id: int | None
    at: float
    kind: str
    message: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class NewEvent:
    """An event a worker records (``record_events``) — id and time are set by the store."""

    task_id: int
    kind: str
    message: str = ""
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class JobFilter:
    """Filters for ``list_jobs``; all given terms must match."""

    states: tuple[JobState, ...] = ()
    device: str | None = None
    schedule_id: int | None = None
    created_after: float | None = None
    created_before: float | None = None


@dataclass(frozen=True, slots=True)
class Page:
    """Keyset pagination: items newest first; pass ``next_cursor`` back as ``cursor``."""

    items: tuple[Any, ...]
    next_cursor: int | None


# --- the queue ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ClaimedTask:
    """Everything a worker needs to run one claimed task attempt."""

    task_id: int
    job_id: int
    attempt: int
    """This attempt's number (1-based); pass it back to ``complete`` (fencing)."""
    max_attempts: int
    device_id: int
    device: DeviceSpec
    """With decrypted credentials, in fallback order."""
    spec: JobSpec
    """The job's spec (shared between tasks of one job; do not mutate)."""
    exclusive: bool
    lease_expires_at: float
    deadline_at: float | None
    used_hold: bool = False
    """The claim consumed one of this worker's session holds on the device (the task
    runs on that idle session's count) rather than taking a free slot."""

    @property
    def kind(self) -> JobKind:
        return self.spec.kind

    @property
    def lines(self) -> list[str]:
        """The commands or config lines to send."""
        return self.spec.commands or self.spec.config


@dataclass(frozen=True, slots=True)
class TaskOutcome:
    """What a worker reports for one attempt.

    ``transient`` says whether the error may go away on retry (see
    ``NetfleetError.transient``); with ``retry_on="transient"`` only those
    are retried. ``retryable=False`` forbids a retry regardless (e.g. config
    half applied).

    ``keep_session``: the worker's pool still has a session to the device counted
    by this task (kept idle for reuse, or still closing): the device slot is not
    freed but becomes a hold of the worker (see ``Store.release_holds``), in the
    worker's hold epoch ``hold_epoch``.
    """

    status: TaskStatus
    outputs: Sequence[CommandResult] = ()
    error: str | None = None
    error_kind: str | None = None
    transient: bool = False
    retryable: bool = True
    keep_session: bool = False
    hold_epoch: int = 0


@dataclass(frozen=True, slots=True)
class Completion:
    """What ``complete`` did: the task's new state, and when it runs again if retrying."""

    task_id: int
    state: TaskState
    next_run_at: float | None
    job_state: JobState


@dataclass(frozen=True, slots=True)
class HeartbeatResult:
    """Per heartbeat: leases renewed, tasks to stop (cancel requested), leases lost."""

    renewed: frozenset[int]
    cancel_requested: frozenset[int]
    lost: frozenset[int]
    """Not held by this worker any more (reaped, or attempt moved on): stop and drop them."""
    close_idle: frozenset[int] = frozenset()
    """Device ids where this worker's idle sessions (holds) keep a ready exclusive task
    from running: close them (the holds are then released)."""


@dataclass(frozen=True, slots=True)
class ReapResult:
    requeued: tuple[int, ...]
    failed: tuple[int, ...]
    holds_freed: int = 0
    """Expired session holds freed (their worker died or lost the database)."""


@dataclass(frozen=True, slots=True)
class WorkerRecord:
    id: str
    hostname: str
    pid: int
    started_at: float
    heartbeat_at: float
    state: WorkerState
    concurrency: int
    stats: dict[str, Any] = field(default_factory=dict)

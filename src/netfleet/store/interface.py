"""The store interface: record types and the ``Store`` protocol both backends implement.

Times are float seconds since the Unix epoch (UTC) everywhere. On PostgreSQL the
store uses the database clock; on SQLite (one machine) the process clock.

Ids: jobs, tasks, devices, credentials, schedules and events are integers;
worker ids are strings chosen by the worker (e.g. ``host-pid-random``).

Errors: every method raises only ``netfleet.core.errors`` types —
``ValidationError`` (bad input, nothing stored), ``NotFound``, ``Conflict``,
``LeaseLost`` (fenced out), ``DatabaseUnavailable`` (transient), ``StoreError``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, TypeVar, runtime_checkable

from netfleet.core.models import CommandResult, Credential, DeviceSpec
from netfleet.jobs.model import JobKind, JobSpec, JobState, TaskCounts, TaskState

T = TypeVar("T")

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
    freed but becomes a hold of the worker (see ``Store.release_holds``).
    """

    status: TaskStatus
    outputs: Sequence[CommandResult] = ()
    error: str | None = None
    error_kind: str | None = None
    transient: bool = False
    retryable: bool = True
    keep_session: bool = False


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


# --- the protocol -------------------------------------------------------------


@runtime_checkable
class Store(Protocol):
    """The durable store. Both backends (SQLite, PostgreSQL) implement all of it."""

    url: str
    """The database URL with any password masked."""
    dialect: Literal["sqlite", "postgresql"]

    async def migrate(self) -> None:
        """Create or upgrade the schema to the latest revision (idempotent)."""

    async def close(self) -> None:
        """Release connections and threads. Safe to call twice."""

    async def now(self) -> float:
        """The store's clock (database time on PostgreSQL), epoch seconds."""

    # inventory
    async def upsert_credential(self, credential: Credential) -> CredentialRecord:
        """Create or replace the credential named ``credential.name`` (required)."""

    async def list_credentials(self) -> list[CredentialRecord]: ...

    async def delete_credential(self, name: str) -> None:
        """``NotFound`` if absent; ``Conflict`` while a device still uses it."""

    async def upsert_device(self, spec: DeviceSpec) -> DeviceRecord:
        """Create or update a device by name. Credentials in ``spec.credentials`` with a
        name and secrets are stored (upserted) too; a credential given by name only
        (no secrets) must already exist. ``UnknownPlatform``/``ValidationError`` on bad input."""

    async def import_devices(self, specs: Sequence[DeviceSpec]) -> ImportReport:
        """Upsert many devices; one row per device (errors per row, others still stored)."""

    async def get_device(self, name: str, *, with_secrets: bool = False) -> DeviceRecord: ...

    async def list_devices(
        self,
        *,
        groups: Sequence[str] = (),
        tags: Sequence[str] = (),
        platform: str | None = None,
        name_glob: str | None = None,
        limit: int = 100,
        cursor: int | None = None,
    ) -> Page:
        """Devices (``DeviceRecord``) by name order; ``cursor`` is the last id seen."""

    async def delete_device(self, name: str) -> None:
        """``NotFound`` if absent; ``Conflict`` while it has queued or running tasks."""

    # jobs
    async def submit(
        self,
        spec: JobSpec,
        *,
        schedule_id: int | None = None,
        fire_time: float | None = None,
    ) -> JobRecord:
        """Validate (unknown devices/groups, empty target, sizes), then store the job and one
        task per device in one transaction. Returns the existing job for a repeated
        ``idempotency_key`` or ``(schedule_id, fire_time)``. Nothing is stored on error."""

    async def get_job(self, job_id: int, *, tasks: bool = True, outputs: bool = True) -> JobRecord:
        """``NotFound`` if absent."""

    async def list_jobs(
        self, filt: JobFilter | None = None, *, limit: int = 50, cursor: int | None = None
    ) -> Page:
        """Jobs (``JobRecord`` without tasks), newest first."""

    async def cancel(self, job_id: int) -> JobRecord:
        """Cancel queued tasks now; flag running ones (workers see it via ``heartbeat``)."""

    async def events(
        self, job_id: int, *, after_id: int = 0, limit: int = 1000
    ) -> list[TaskEvent]: ...

    async def delete_finished_jobs(self, older_than_s: float) -> int:
        """Retention: delete jobs finished more than ``older_than_s`` ago; returns the count."""

    # the queue (workers)
    async def claim(
        self,
        worker_id: str,
        limit: int,
        *,
        lease_s: float,
        warm_devices: frozenset[int] | set[int] = frozenset(),
    ) -> list[ClaimedTask]:
        """Claim up to ``limit`` ready tasks in one short transaction, taking device slots.

        Order: priority (higher first), then tasks for ``warm_devices`` (affinity), then
        ``run_at``, then id. A device slot counts a session: a running task or an idle
        session a worker holds (``release_holds``). A task on a device where this worker
        holds an idle session consumes that hold (``ClaimedTask.used_hold``) instead of a
        free slot; an exclusive task needs every counted session to be its own. Tasks
        of devices without room (or held exclusively) are skipped, never waited on."""

    async def heartbeat(
        self, worker_id: str, task_ids: Sequence[int], *, lease_s: float
    ) -> HeartbeatResult:
        """Renew the leases of ``task_ids`` held by ``worker_id`` and its live session
        holds (an expired hold is never renewed); report cancels and losses."""

    async def complete(
        self, task_id: int, worker_id: str, attempt: int, outcome: TaskOutcome
    ) -> Completion:
        """Finish an attempt: store outputs (per command, this attempt), free the device slot
        (or turn it into a hold of the worker with ``outcome.keep_session``), and set
        succeeded/failed/cancelled — or ``retrying`` with a backoff ``run_at`` when the
        job's retry policy allows. ``LeaseLost`` unless ``(worker_id, attempt)`` still
        holds the task."""

    async def complete_many(
        self, worker_id: str, items: Sequence[tuple[int, int, TaskOutcome]]
    ) -> list[Completion | None]:
        """Batch ``complete``: ``(task_id, attempt, outcome)`` each, one transaction;
        ``None`` in the result where the worker was fenced out."""

    async def record_events(self, worker_id: str, events: Sequence[NewEvent]) -> None:
        """Append worker-side events (connected new/reused, command ...)."""

    async def release_holds(self, worker_id: str, holds: Mapping[int, int] | None = None) -> int:
        """Give back ``{device_id: n}`` idle sessions the worker's pool closed (all of the
        worker's holds with ``None``); clamped at what it holds. Returns how many."""

    async def reap(self) -> ReapResult:
        """Expired leases: requeue the task (attempts left and repeatable) or fail it
        ("lease lost; config not re-run"); free its slot in the same transaction.
        Expired session holds are freed too."""

    async def expire_deadlines(self, grace_s: float = 30.0) -> list[int]:
        """Fail running tasks past ``deadline_at + grace_s`` and free their slots."""

    def listen(self) -> AsyncIterator[None]:
        """Yields whenever new work may be ready (PostgreSQL NOTIFY; in-process on SQLite).
        Workers should still poll: a wake-up may be missed across a reconnect."""

    # workers
    async def register_worker(
        self, worker_id: str, *, hostname: str, pid: int, concurrency: int
    ) -> WorkerRecord: ...

    async def worker_heartbeat(
        self, worker_id: str, *, state: WorkerState = "running", stats: dict[str, Any] | None = None
    ) -> None: ...

    async def list_workers(self, *, alive_within_s: float | None = None) -> list[WorkerRecord]: ...

    # escape hatch for SQL in sibling modules (store/schedules.py)
    async def run_sync(self, fn: Callable[[Any], T], *, write: bool = True) -> T:
        """Run ``fn(connection)`` (a SQLAlchemy ``Connection``) in one transaction on the
        store's thread, translating database errors. For store-internal modules only."""

"""The store interface: record types and the ``Store`` protocol both backends implement.

Times are float seconds since the Unix epoch (UTC) everywhere. On PostgreSQL the
store uses the database clock; on SQLite (one machine) the process clock.

Ids: jobs, tasks, devices, credentials, schedules and events are integers;
worker ids are strings chosen by the worker (e.g. ``host-pid-random``).

Errors: every method raises only ``netfleet.core.errors`` types —
``ValidationError`` (bad input, nothing stored), ``NotFound``, ``Conflict``,
``LeaseLost`` (fenced out), ``DatabaseUnavailable`` (transient), ``StoreError``.

The record types live in ``netfleet.store.records`` (re-exported here).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from typing import Any, Literal, Protocol, TypeVar, runtime_checkable

from netfleet.core.models import Credential, DeviceSpec
from netfleet.jobs.model import JobSpec
from netfleet.store.records import (
    ClaimedTask,
    CommandOutput,
    Completion,
    CredentialRecord,
    DeviceRecord,
    HeartbeatResult,
    ImportReport,
    ImportRow,
    JobFilter,
    JobRecord,
    NewEvent,
    Page,
    ReapResult,
    TaskEvent,
    TaskOutcome,
    TaskRecord,
    TaskStatus,
    WorkerRecord,
    WorkerState,
)

T = TypeVar("T")

__all__ = [
    "ClaimedTask",
    "CommandOutput",
    "Completion",
    "CredentialRecord",
    "DeviceRecord",
    "HeartbeatResult",
    "ImportReport",
    "ImportRow",
    "JobFilter",
    "JobRecord",
    "NewEvent",
    "Page",
    "ReapResult",
    "Store",
    "TaskEvent",
    "TaskOutcome",
    "TaskRecord",
    "TaskStatus",
    "WorkerRecord",
    "WorkerState",
]


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

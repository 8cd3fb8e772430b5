"""Façades of the queue, used by workers: ``store.claims``, ``store.completions``,
``store.holds`` and ``store.workers``."""

from __future__ import annotations

import builtins
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy.engine import Connection

from netfleet.core.errors import LeaseLost
from netfleet.store.facades import Facade
from netfleet.store.records import (
    ClaimedTask,
    Completion,
    HeartbeatResult,
    NewEvent,
    ReapResult,
    TaskOutcome,
    WorkerRecord,
    WorkerState,
)
from netfleet.store.sql import claims as claims_sql
from netfleet.store.sql import completions as completions_sql
from netfleet.store.sql import events as events_sql
from netfleet.store.sql import holds as holds_sql
from netfleet.store.sql import marks as marks_sql
from netfleet.store.sql import raw_outputs as raw_outputs_sql
from netfleet.store.sql import reaping as reaping_sql
from netfleet.store.sql import workers as workers_sql

MAX_CLAIM = 1000


class Claims(Facade):
    """Claims and their leases: claim, renew, reap expired ones, fail overdue tasks."""

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
        session a worker holds (``store.holds``). A task on a device where this worker
        holds an idle session consumes that hold (``ClaimedTask.used_hold``) instead of a
        free slot; an exclusive task needs every counted session to be its own. Tasks
        of devices without room (or held exclusively) are skipped, never waited on."""
        if limit <= 0:
            return []
        db = self._db
        return await db.run(
            lambda c: claims_sql.claim(
                c,
                postgres=db.postgres,
                worker_id=worker_id,
                limit=min(limit, MAX_CLAIM),
                lease_s=lease_s,
                warm=warm_devices,
                now=db.clock(c),
                specs=db.specs,
                load_device=db.load_device,
            ),
            what="claim tasks",
            queue=True,
        )

    async def heartbeat(
        self, worker_id: str, task_ids: Sequence[int], *, lease_s: float, hold_epoch: int = 0
    ) -> HeartbeatResult:
        """Renew the leases of ``task_ids`` held by ``worker_id`` and its live session
        holds of ``hold_epoch`` (one epoch row; a dead hold is never renewed; holds of
        older epochs are freed: the worker closed their sessions); report cancels and
        losses."""
        db = self._db
        return await db.run(
            lambda c: claims_sql.heartbeat(
                c,
                worker_id,
                list(task_ids),
                lease_s,
                db.clock(c),
                postgres=db.postgres,
                hold_epoch=hold_epoch,
            ),
            what="renew leases",
            idempotent=True,
        )

    async def reap(self) -> ReapResult:
        """Expired leases: requeue the task (attempts left and repeatable) or fail it
        ("lease lost; config not re-run"); free its slot in the same transaction.
        Expired session holds are freed too."""
        db = self._db
        result = await db.run(
            lambda c: reaping_sql.reap(c, postgres=db.postgres, now=db.clock(c)),
            what="reap expired leases",
        )
        # Its own transaction: it locks other devices' slot rows (in device order).
        freed = await db.run(
            lambda c: holds_sql.reap_holds(c, postgres=db.postgres, now=db.clock(c)),
            what="free expired session holds",
        )
        if result.requeued or freed:
            db.wake()
        return replace(result, holds_freed=freed)

    async def expire_deadlines(self, grace_s: float = 30.0) -> list[int]:
        """Fail running tasks past ``deadline_at + grace_s`` and free their slots."""
        db = self._db
        return await db.run(
            lambda c: reaping_sql.expire_deadlines(
                c, postgres=db.postgres, now=db.clock(c), grace_s=grace_s
            ),
            what="expire task deadlines",
        )


class Completions(Facade):
    """Fenced results of attempts, and the events workers write while they run."""

    async def complete(
        self, task_id: int, worker_id: str, attempt: int, outcome: TaskOutcome
    ) -> Completion:
        """Finish an attempt: store outputs (per command, this attempt), free the device slot
        (or turn it into a hold of the worker with ``outcome.keep_session``), and set
        succeeded/failed/cancelled — or ``retrying`` with a backoff ``run_at`` when the
        job's retry policy allows. ``LeaseLost`` unless ``(worker_id, attempt)`` still
        holds the task."""
        result = (await self.complete_many(worker_id, [(task_id, attempt, outcome)]))[0]
        if result is None:
            raise LeaseLost(
                f"task {task_id} attempt {attempt}: lease lost; worker {worker_id} no longer "
                "holds it (expired, reaped or cancelled); its result was not recorded"
            )
        return result

    async def complete_many(
        self, worker_id: str, items: Sequence[tuple[int, int, TaskOutcome]]
    ) -> list[Completion | None]:
        """Batch ``complete``: ``(task_id, attempt, outcome)`` each, one transaction;
        ``None`` in the result where the worker was fenced out."""
        if not items:
            return []
        db = self._db

        def complete(c: Connection) -> list[Completion | None]:
            done = completions_sql.complete_many(
                c,
                postgres=db.postgres,
                worker_id=worker_id,
                items=items,
                now=db.clock(c),
                specs=db.specs,
            )
            raw_outputs_sql.keep(c, db.box, items, done)  # masking.keep_raw: encrypted
            return done

        return await db.run(complete, what="complete tasks", queue=True)

    async def mark_config(
        self, task_id: int, worker_id: str, attempt: int, *, first_line: str = ""
    ) -> None:
        """Record durably that the attempt is about to send its first config line.
        ``LeaseLost`` unless ``(worker_id, attempt)`` still holds the task."""
        db = self._db
        ok = await db.run(
            lambda c: marks_sql.mark(
                c,
                postgres=db.postgres,
                task_id=task_id,
                attempt=attempt,
                worker_id=worker_id,
                first_line=first_line,
                now=db.clock(c),
            ),
            what="record a config progress mark",
            queue=True,
        )
        if not ok:
            raise LeaseLost(
                f"task {task_id} attempt {attempt}: lease lost; worker {worker_id} no longer "
                "holds it; no config was sent"
            )

    async def record_events(self, worker_id: str, events: Sequence[NewEvent]) -> None:
        """Append worker-side events (connected new/reused, command ...)."""
        if not events:
            return
        db = self._db
        await db.run(
            lambda c: events_sql.record_events(c, worker_id, events, db.clock(c)),
            what="record events",
            queue=True,
        )


class Holds(Facade):
    """Session holds: idle pooled sessions a worker keeps, counted in device slots."""

    async def release(
        self, worker_id: str, holds: Mapping[int, int] | None = None, *, epoch: int | None = None
    ) -> int:
        """Give back ``{device_id: n}`` idle sessions the worker's pool closed (all of the
        worker's holds with ``None``); clamped at what it holds (in ``epoch`` if given).
        Returns how many."""
        if holds is not None and not any(n > 0 for n in holds.values()):
            return 0
        db = self._db
        freed = await db.run(
            lambda c: holds_sql.release_holds(
                c, postgres=db.postgres, worker_id=worker_id, holds=holds, epoch=epoch
            ),
            what="release session holds",
        )
        if freed:
            db.wake()
        return freed


class Workers(Facade):
    """The worker registry: registration, heartbeats, listing."""

    async def register(
        self, worker_id: str, *, hostname: str, pid: int, concurrency: int
    ) -> WorkerRecord:
        db = self._db
        return await db.run(
            lambda c: workers_sql.register(
                c, worker_id, hostname, pid, concurrency, db.clock(c), postgres=db.postgres
            ),
            what=f"register worker {worker_id!r}",
        )

    async def heartbeat(
        self, worker_id: str, *, state: WorkerState = "running", stats: dict[str, Any] | None = None
    ) -> None:
        """``NotFound`` unless the worker is registered."""
        db = self._db
        await db.run(
            lambda c: workers_sql.heartbeat(c, worker_id, state, stats, db.clock(c)),
            what="worker heartbeat",
            idempotent=True,
        )

    async def list(self, *, alive_within_s: float | None = None) -> builtins.list[WorkerRecord]:
        """Workers by id; only those with a heartbeat in the last ``alive_within_s``."""
        db = self._db

        def op(conn: Connection) -> builtins.list[WorkerRecord]:
            after = None if alive_within_s is None else db.clock(conn) - alive_within_s
            return workers_sql.list_workers(conn, after)

        return await db.run(op, what="list workers", write=False, idempotent=True)

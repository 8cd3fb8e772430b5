"""The attempts a worker runs: the registry of running attempts (``RunningTasks``),
and the runner that executes each one and reports its outcome, fenced.

The outcome is reported with ``store.completions.complete_many`` (batched by the
``Completer``), fenced by ``(task_id, worker_id, attempt)``.
``LeaseLost`` means the task belongs to someone else now: the result is dropped
(the session was already discarded when the attempt was stopped, or is clean).
While the database is unreachable the report is retried with backoff — a result
is never silently lost; if the lease expires meanwhile, the reaper re-queues the
task and the late report is rejected.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Literal

from netfleet.core.errors import DatabaseUnavailable, LeaseLost, NetfleetError
from netfleet.core.logging import bind_context, get_logger
from netfleet.store import SqlStore
from netfleet.store.records import ClaimedTask, Completion, TaskOutcome
from netfleet.worker.batching import Completer, EventBuffer
from netfleet.worker.executor import AttemptReport, Executor
from netfleet.worker.outcomes import (
    StopReason,
    error_outcome,
    internal_error_outcome,
    stop_outcome,
)
from netfleet.worker.stats import WorkerStats
from netfleet.worker.waiting import Backoff

if TYPE_CHECKING:  # leases.py imports the registry below
    from netfleet.worker.leases import LeaseKeeper

log = get_logger(__name__)

Phase = Literal["starting", "executing", "completing", "done"]


@dataclass(slots=True, eq=False)
class RunningTask:
    """One claimed attempt in this worker."""

    claimed: ClaimedTask
    task: asyncio.Task[None] | None = None
    phase: Phase = "starting"
    stop_reason: StopReason | None = None
    started: float = field(default_factory=time.monotonic)

    @property
    def task_id(self) -> int:
        return self.claimed.task_id

    def stop(self, reason: StopReason) -> bool:
        """Ask the attempt to stop for ``reason`` (the first reason wins).

        The coroutine is cancelled only while it talks to the device. Before that,
        the attempt sees the reason and does not start; once it is reporting its
        result, the reason is only recorded (``lost`` then stops report retries).
        Returns whether the coroutine was cancelled.
        """
        if self.stop_reason is None:
            self.stop_reason = reason
        if self.phase == "executing" and self.task is not None:
            return self.task.cancel(f"netfleet: {self.stop_reason}")
        return False


class RunningTasks:
    """Attempts by task id; tells the claim loop when a slot frees up."""

    def __init__(self) -> None:
        self._by_id: dict[int, RunningTask] = {}
        self.slot_freed = asyncio.Event()
        self.empty = asyncio.Event()
        self.empty.set()

    def __len__(self) -> int:
        return len(self._by_id)

    def __iter__(self) -> Iterator[RunningTask]:
        return iter(list(self._by_id.values()))

    def __contains__(self, task_id: object) -> bool:
        return task_id in self._by_id

    def add(self, running: RunningTask) -> None:
        self._by_id[running.task_id] = running
        self.empty.clear()

    def get(self, task_id: int) -> RunningTask | None:
        return self._by_id.get(task_id)

    def remove(self, running: RunningTask) -> None:
        if self._by_id.get(running.task_id) is running:
            del self._by_id[running.task_id]
            self.slot_freed.set()
            if not self._by_id:
                self.empty.set()

    def ids(self) -> list[int]:
        return list(self._by_id)

    def stop_all(self, reason: StopReason) -> int:
        """Stop every attempt for ``reason``; returns how many were cancelled."""
        return sum(1 for running in self if running.stop(reason))


class AttemptRunner:
    """Starts attempts as asyncio tasks and sees each through to a fenced report."""

    def __init__(
        self,
        store: SqlStore,
        worker_id: str,
        executor: Executor,
        *,
        running: RunningTasks,
        leases: LeaseKeeper,
        events: EventBuffer,
        stats: WorkerStats,
    ) -> None:
        self._store = store
        self._worker_id = worker_id
        self._executor = executor
        self._running = running
        self._leases = leases
        self._events = events
        self._stats = stats
        self._completer = Completer(store, worker_id, before=events.flush)
        self._ledger = executor.ledger

    @property
    def executor(self) -> Executor:
        return self._executor

    def start(self, claimed: ClaimedTask, *, requested_at: float) -> RunningTask:
        """Run ``claimed`` in a new asyncio task (its lease was granted at ``requested_at``)."""
        if self._ledger is not None:
            self._ledger.claimed(self._worker_id, claimed)
        attempt = RunningTask(claimed)
        self._running.add(attempt)
        self._leases.granted(claimed.task_id, requested_at)
        self._leases.fence_attempt(attempt, time.monotonic(), starting=True)
        attempt.task = asyncio.create_task(self._run(attempt), name=f"task-{claimed.task_id}")
        attempt.task.add_done_callback(lambda _: self._forget(attempt))
        return attempt

    def _forget(self, attempt: RunningTask) -> None:
        if attempt.phase != "done" and self._ledger is not None:
            self._ledger.forget(self._worker_id, attempt.claimed)
        attempt.phase = "done"
        self._leases.forget(attempt.task_id)
        self._running.remove(attempt)

    async def _run(self, attempt: RunningTask) -> None:
        claimed = attempt.claimed
        bind_context(
            job_id=claimed.job_id,
            task_id=claimed.task_id,
            attempt=claimed.attempt,
            device=claimed.device.name,
        )
        try:
            outcome = await self._execute(attempt)
            if outcome is not None:
                await self._report(attempt, outcome)
        except Exception:  # a bug in the worker itself: log it, the lease will expire
            log.exception("worker error while running a task")
        finally:
            self._forget(attempt)

    async def _execute(self, attempt: RunningTask) -> TaskOutcome | None:
        claimed = attempt.claimed
        report = AttemptReport(self._events, claimed, self._marker(claimed))
        loop = asyncio.get_running_loop()
        when = None
        if claimed.deadline_at is not None:
            when = loop.time() + max(0.0, claimed.deadline_at - time.time())
        attempt.phase = "executing"
        try:
            async with asyncio.timeout_at(when) as deadline:
                if attempt.stop_reason is not None:  # stopped before it began
                    raise asyncio.CancelledError
                outcome = await self._executor(claimed, report)
            attempt.phase = "completing"
        except asyncio.CancelledError:
            attempt.phase = "completing"
            if attempt.stop_reason is None:
                raise
            current = asyncio.current_task()
            if current is not None:
                current.uncancel()
            result = stop_outcome(
                claimed, attempt.stop_reason, started_sending=report.started_sending
            )
            if result is None:
                self._stats.lease_lost += 1
                log.warning("lease lost: attempt stopped, result dropped")
            return result
        except TimeoutError:
            attempt.phase = "completing"
            if not deadline.expired():
                log.error("executor raised a bare TimeoutError")
                return internal_error_outcome(TimeoutError())
            attempt.stop_reason = "deadline"
            self._stats.deadline_exceeded += 1
            log.warning("task deadline exceeded; attempt stopped")
            return stop_outcome(claimed, "deadline")
        except NetfleetError as exc:
            attempt.phase = "completing"
            outcome = error_outcome(claimed, exc, started_sending=report.started_sending)
            return replace(outcome, error=report.redact(outcome.error or ""))
        except Exception as exc:
            attempt.phase = "completing"
            log.exception("executor failed unexpectedly")
            return internal_error_outcome(exc)
        return outcome

    def _marker(self, claimed: ClaimedTask) -> Callable[[str], Awaitable[None]] | None:
        """Config attempts: the durable progress mark written before the first line."""
        if claimed.kind != "config":
            return None

        async def mark(first_line: str) -> None:
            await self._store.completions.mark_config(
                claimed.task_id, self._worker_id, claimed.attempt, first_line=first_line
            )

        return mark

    async def _report(self, attempt: RunningTask, outcome: TaskOutcome) -> None:
        claimed = attempt.claimed
        backoff = Backoff(first=0.1, cap=2.0)
        settled = False
        keep = False
        while True:
            if attempt.stop_reason == "lost":
                self._stats.lease_lost += 1
                self._rejected(claimed, settled, keep)
                log.warning("lease lost before the result was stored; result dropped")
                return
            if not settled and self._ledger is not None:
                # After the hold fence the store may free the slot when the lease ends,
                # before this report reaches it: the session closes instead of being kept.
                may_keep = self._leases.holds_trusted()
                keep = self._ledger.settle(self._worker_id, claimed, may_keep=may_keep)
                outcome = replace(
                    outcome, keep_session=keep, hold_epoch=self._ledger.epoch(self._worker_id)
                )
                if not may_keep:
                    settled = True
                    until = self._leases.lease_until.get(claimed.task_id)
                    within = None if until is None else max(0.0, until - time.monotonic())
                    await self._executor.close_unkept(claimed, within=within)
                    continue  # the lease may have been lost while it closed
            settled = True
            try:
                completion = await self._completer.complete(
                    claimed.task_id, claimed.attempt, outcome
                )
                if self._ledger is not None:
                    self._ledger.confirmed(self._worker_id, claimed)
                break
            except LeaseLost:
                self._stats.lease_lost += 1
                self._rejected(claimed, settled, keep)
                log.warning("late result rejected: the task is no longer ours; result dropped")
                return
            except DatabaseUnavailable as exc:
                self._stats.store_errors += 1
                delay = backoff.failed()
                if backoff.failures == 1 or backoff.failures % 10 == 0:
                    log.warning("storing the result failed; retrying", error=str(exc))
                await asyncio.sleep(delay)
            except NetfleetError as exc:
                self._stats.store_errors += 1
                self._rejected(claimed, settled, keep)
                log.error("storing the result failed", error=str(exc), kind=exc.kind)
                return
        self._account(claimed, outcome, completion)

    def _rejected(self, claimed: ClaimedTask, settled: bool, kept: bool) -> None:
        """The store did not take the result: the task's slot is not ours any more."""
        if settled and self._ledger is not None:
            self._ledger.rejected(self._worker_id, claimed, kept=kept)
        self._executor.lease_lost(claimed)

    def _account(self, claimed: ClaimedTask, outcome: TaskOutcome, done: Completion) -> None:
        # The store records the claimed/retry_scheduled/succeeded/failed/cancelled events
        # in the same transactions; the worker only counts and logs.
        if outcome.status == "failed":
            log.info(
                "task attempt failed",
                error=outcome.error,
                kind=outcome.error_kind,
                transient=outcome.transient,
                state=done.state,
                next_run_at=done.next_run_at,
            )
        if done.state == "retrying":
            self._stats.retries_scheduled += 1
        elif done.state == "succeeded":
            self._stats.succeeded += 1
        elif done.state == "cancelled":
            self._stats.cancelled += 1
        elif done.state == "failed":
            self._stats.failed += 1

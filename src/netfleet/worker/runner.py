"""Running one claimed attempt: execute it, then report its outcome, fenced.

The outcome is reported with ``store.completions.complete(task_id, worker_id, attempt, ...)``.
``LeaseLost`` means the task belongs to someone else now: the result is dropped
(the session was already discarded when the attempt was stopped, or is clean).
While the database is unreachable the report is retried with backoff — a result
is never silently lost; if the lease expires meanwhile, the reaper re-queues the
task and the late report is rejected.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from typing import Protocol

from netfleet.core.errors import DatabaseUnavailable, LeaseLost, NetfleetError
from netfleet.core.logging import bind_context, get_logger, redact_text
from netfleet.core.models import CommandResult
from netfleet.store import SqlStore
from netfleet.store.records import ClaimedTask, Completion, TaskOutcome
from netfleet.worker.completer import Completer
from netfleet.worker.events import EventBuffer
from netfleet.worker.holds import HoldLedger
from netfleet.worker.leases import LeaseKeeper
from netfleet.worker.outcomes import (
    error_outcome,
    internal_error_outcome,
    stop_outcome,
)
from netfleet.worker.running import RunningTask, RunningTasks
from netfleet.worker.stats import WorkerStats
from netfleet.worker.waiting import Backoff

log = get_logger(__name__)


class AttemptReport:
    """What an executor tells the worker while an attempt runs (becomes task events)."""

    def __init__(self, events: EventBuffer, claimed: ClaimedTask) -> None:
        self._events = events
        self._task_id = claimed.task_id
        self._secrets = [s for c in claimed.device.credentials for s in c.secrets()]
        self.started_sending = False
        """True once a command or config line may have reached the device."""
        self.commands = 0

    def connected(self, *, reused: bool) -> None:
        kind = "reused" if reused else "new"
        self._events.add(self._task_id, "connected", f"{kind} session", reused=reused)

    def sending(self) -> None:
        self.started_sending = True

    def command(self, result: CommandResult) -> None:
        self.started_sending = True
        self.commands += 1
        text = redact_text(result.command, self._secrets)
        self._events.add(
            self._task_id,
            "command",
            text if result.ok else f"{text}: {redact_text(result.error or '', self._secrets)}",
            seq=self.commands,
            ok=result.ok,
            error_kind=result.error_kind,
            duration_ms=round(result.duration_ms, 3),
        )

    def redact(self, text: str) -> str:
        return redact_text(text, self._secrets)


class Executor(Protocol):
    """Runs an attempt's commands or config on the device and says how it went."""

    ledger: HoldLedger | None
    """Session holds of the executor's pool (``None``: sessions are not kept, every
    completion frees its device slot)."""

    async def __call__(self, claimed: ClaimedTask, report: AttemptReport) -> TaskOutcome: ...

    def lease_lost(self, claimed: ClaimedTask) -> None:
        """The task belongs to another worker now: drop sessions kept for its device."""

    def holds_expired(self, worker_id: str) -> None:
        """``worker_id``'s session holds may have expired in the store: close idle sessions."""

    def close_idle(self, device_ids: frozenset[int]) -> None:
        """Close idle sessions to these devices (an exclusive task waits for them)."""


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
        report = AttemptReport(self._events, claimed)
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
            result = stop_outcome(claimed, attempt.stop_reason)
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
                keep = self._ledger.settle(self._worker_id, claimed)
                outcome = replace(outcome, keep_session=keep)
            settled = True
            try:
                completion = await self._completer.complete(
                    claimed.task_id, claimed.attempt, outcome
                )
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

"""Heartbeats: renew the leases of running attempts, learn about cancels and lost leases.

A lease is renewed only by a heartbeat the store accepted. If heartbeats keep
failing (database down, or the worker was paused) until a lease may have expired
by the store's rules, the attempt is stopped as ``lost`` locally: another worker's
reaper may hand the task out again, and two sessions running one task would break
the device's session limit.

Self-fencing: a plain loop callback (``fence``, every ``tick_s``) compares the
clock with the leases. After a pause it runs in the first loop iteration, before
any attempt resumes: it cancels the attempts whose lease may be gone (their
sessions are discarded as they unwind) and closes the idle sessions whose holds
may be gone. It fences ``margin_s`` before the store could expire anything:
the store's lease runs from when it granted it, which is after the request the
worker measures from.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from netfleet.core.errors import DatabaseUnavailable, NetfleetError
from netfleet.core.logging import get_logger
from netfleet.store import SqlStore
from netfleet.store.records import HeartbeatResult, WorkerState
from netfleet.worker.attempts import RunningTask, RunningTasks
from netfleet.worker.stats import WorkerStats
from netfleet.worker.waiting import Backoff, sleep_unless

log = get_logger(__name__)


class LeaseKeeper:
    """Runs the heartbeat loop of one worker."""

    def __init__(
        self,
        store: SqlStore,
        worker_id: str,
        running: RunningTasks,
        stats: WorkerStats,
        *,
        lease_s: float,
        interval_s: float,
        state: Callable[[], WorkerState],
        snapshot: Callable[[], dict[str, Any]],
        holds_expired: Callable[[], None] = lambda: None,
        close_idle: Callable[[HeartbeatResult], None] = lambda _: None,
        hold_epoch: Callable[[], int] = lambda: 0,
        sweep_closed: Callable[[], None] = lambda: None,
    ) -> None:
        self._store = store
        self._worker_id = worker_id
        self._running = running
        self._stats = stats
        self._lease_s = lease_s
        self._interval_s = interval_s
        self._state = state
        self._snapshot = snapshot
        self.lease_until: dict[int, float] = {}
        """Monotonic time until which each attempt's lease surely holds (by our clock)."""
        self._holds_expired = holds_expired
        self._close_idle = close_idle
        self._hold_epoch = hold_epoch
        self._sweep_closed = sweep_closed
        self.margin_s = min(lease_s / 10, 2.0)
        """How long before the store could expire a lease or hold the worker fences."""
        self.tick_s = max(0.01, min(0.25, lease_s / 20))
        self.holds_until = time.monotonic() + lease_s / 2 - self.margin_s
        """Until when the worker's session holds surely live: a heartbeat leaves each live
        hold at least half a lease, and a hold made from a task lives as long as its
        lease did."""
        self._trusted = True
        self.fenced = 0
        """Attempts stopped because their lease may have expired."""
        self._timer: asyncio.TimerHandle | None = None
        self._due = 0.0
        self._last_fence = time.monotonic()

    def granted(self, task_id: int, requested_at: float) -> None:
        """Record a lease granted by a store call sent at ``requested_at`` (monotonic)."""
        self.lease_until[task_id] = requested_at + self._lease_s - self.margin_s

    def holds_trusted(self) -> bool:
        """Whether a finishing attempt may keep its session as a hold: not from the moment
        the hold fence fired until a heartbeat gets through in time again (the store may
        free the task's slot when its lease ends, before the completion reaches it)."""
        return self._trusted

    def forget(self, task_id: int) -> None:
        self.lease_until.pop(task_id, None)

    async def run(self, stop: asyncio.Event) -> None:
        """Beat every ``interval_s`` until ``stop``; store failures back off, never raise."""
        backoff = Backoff(first=min(self._interval_s, 0.5), cap=self._interval_s)
        self._arm()
        try:
            while True:
                ok = await self.beat()
                if ok:
                    backoff.reset()
                self.fence()
                delay = self._interval_s if ok else backoff.failed()
                if await sleep_unless(stop, delay):
                    return
        finally:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None

    def _arm(self) -> None:
        loop = asyncio.get_running_loop()
        self._due = loop.time() + self.tick_s
        self._timer = loop.call_later(self.tick_s, self._tick)

    def _tick(self) -> None:
        lag = asyncio.get_running_loop().time() - self._due
        if lag > self._stats.loop_lag_max_s:
            self._stats.loop_lag_max_s = lag
        try:
            self.fence()
        finally:
            self._arm()

    async def beat(self) -> bool:
        """One heartbeat: renew leases, stop cancelled or lost attempts, publish stats."""
        self._sweep_closed()  # sessions the devices closed: their holds go with them
        ids = [r.task_id for r in self._running if r.phase != "done"]
        sent = time.monotonic()
        try:
            result = await self._store.claims.heartbeat(
                self._worker_id, ids, lease_s=self._lease_s, hold_epoch=self._hold_epoch()
            )
            self._renewed_holds(sent)
            if result.close_idle:
                self._close_idle(result)
            if ids:
                for task_id in result.renewed:
                    if task_id in self._running:
                        self.granted(task_id, sent)
                for task_id in result.cancel_requested:
                    self._stop(task_id, "cancel")
                for task_id in result.lost:
                    self._stop(task_id, "lost")
            await self._store.workers.heartbeat(
                self._worker_id, state=self._state(), stats=self._snapshot()
            )
        except DatabaseUnavailable as exc:
            self._stats.store_errors += 1
            log.warning("heartbeat failed; will retry", error=str(exc), running=len(ids))
            return False
        except NetfleetError as exc:
            self._stats.store_errors += 1
            log.error("heartbeat failed", error=str(exc), kind=exc.kind, running=len(ids))
            return False
        return True

    def _renewed_holds(self, sent: float) -> None:
        if time.monotonic() >= self.holds_until:
            # Renewed too late: the store may have freed them before this heartbeat.
            self._expire_holds()
        self.holds_until = sent + self._lease_s / 2 - self.margin_s
        self._trusted = time.monotonic() < self.holds_until  # else the fence fires next

    def _expire_holds(self) -> None:
        log.debug("session holds may have expired (no heartbeat for a lease)")
        self._holds_expired()

    def _stop(self, task_id: int, reason: str) -> None:
        running = self._running.get(task_id)
        if running is None:
            return
        if reason == "cancel":
            log.info("cancel requested", task_id=task_id, job_id=running.claimed.job_id)
            running.stop("cancel")
        elif running.phase == "completing":
            # Usually our own result landing while this heartbeat was in flight.
            log.debug("task no longer held while reporting", task_id=task_id)
            running.stop("lost")
        else:
            log.warning(
                "lease lost; stopping the attempt",
                task_id=task_id,
                job_id=running.claimed.job_id,
                device=running.claimed.device.name,
            )
            running.stop("lost")

    def fence(self) -> None:
        """Stop attempts and close idle sessions whose lease or hold may have expired."""
        now = time.monotonic()
        # Late means the fence did not run from its point on: a point set in the past (a
        # reply that came back late) is not a late fence, the previous run bounds it.
        since, self._last_fence = self._last_fence, now
        if now >= self.holds_until:
            self._late(now - max(self.holds_until, since))
            self._trusted = False
            self._expire_holds()
            self.holds_until = float("inf")  # until a heartbeat gets through again
        for running in self._running:
            self.fence_attempt(running, now, since=since)

    def fence_attempt(
        self, running: RunningTask, now: float, *, starting: bool = False, since: float = 0.0
    ) -> None:
        """Stop ``running`` if its lease may have expired. ``starting``: the claim's reply
        came back past the fence point (a slow store, a stalled process): the attempt must
        not begin, the store may have handed the task to another worker already."""
        until = self.lease_until.get(running.task_id)
        if until is None or now < until or running.stop_reason is not None:
            return
        log.warning(
            "claimed past the lease's fence point; not starting the attempt"
            if starting
            else "lease expired without a successful heartbeat; stopping the attempt",
            task_id=running.task_id,
            job_id=running.claimed.job_id,
            device=running.claimed.device.name,
            late_s=round(now - until, 3),
        )
        self.fenced += 1
        self._stats.fenced += 1
        if not starting:  # nothing ran yet: no session can outlive the slot
            self._late(now - max(until, since))
        running.stop("lost")

    def _late(self, late_s: float) -> None:
        """Count a fence that ran ``late_s`` past its point: past the margin, the store
        may have freed the slot or hold while the session was still open."""
        if late_s >= self.margin_s:
            self._stats.fenced_late += 1
            self._stats.fence_late_max_s = max(self._stats.fence_late_max_s, late_s)

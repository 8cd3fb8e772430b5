"""The worker: claim tasks up to free capacity, run them, keep leases, recover, drain.

One ``Worker`` per process. Its loops share one event loop:

- the claim loop: claims ``concurrency - running`` tasks per round trip, warm
  devices first (affinity), then waits for a free slot, a NOTIFY wake-up or the
  poll interval;
- the lease keeper (heartbeats), the reaper/deadline watchdog, the event writer,
  the NOTIFY listener and, optionally, the schedule loop.

Shutdown (``stop()``, SIGTERM/SIGINT in ``serve``): stop claiming, let running
attempts finish for ``drain_timeout_seconds``, then stop the rest and hand them
back to the queue, flush events, mark the worker stopped. The pool is the
caller's to close (after ``run`` returns).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import socket
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from netfleet.core.errors import DatabaseUnavailable, NetfleetError
from netfleet.core.logging import get_logger
from netfleet.store import SqlStore
from netfleet.store.records import ClaimedTask, HeartbeatResult, WorkerState
from netfleet.worker.attempts import AttemptRunner, RunningTasks
from netfleet.worker.batching import EventBuffer
from netfleet.worker.executor import Executor
from netfleet.worker.leases import LeaseKeeper
from netfleet.worker.reaper import Reaper
from netfleet.worker.stats import WorkerStats
from netfleet.worker.waiting import Backoff, wait_any
from netfleet.worker.wakeup import listen_for_work

log = get_logger(__name__)

BackgroundLoop = Callable[[asyncio.Event], Coroutine[Any, Any, None]]


@dataclass(frozen=True, slots=True)
class WorkerConfig:
    """The knobs of one worker (from ``[worker]`` settings)."""

    concurrency: int = 100
    lease_s: float = 30.0
    heartbeat_s: float = 5.0
    poll_s: float = 0.5
    drain_timeout_s: float = 30.0
    reap_interval_s: float | None = None
    """Default: half the lease, at most 10 s."""
    deadline_grace_s: float | None = None
    """Default: the lease duration."""
    claim_coalesce_s: float = 0.02
    """After a slot frees, wait up to this long for more to free before claiming."""
    retention_s: float | None = None
    """Delete jobs finished longer ago than this (``database.retention_days``); None: keep."""
    retention_every_s: float = 3600.0

    @property
    def reap_every(self) -> float:
        if self.reap_interval_s is not None:
            return self.reap_interval_s
        return max(0.05, min(self.lease_s / 2, 10.0))

    @property
    def grace(self) -> float:
        return self.lease_s if self.deadline_grace_s is None else self.deadline_grace_s


def new_worker_id() -> str:
    """``host-pid-random``: unique across restarts and hosts."""
    return f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"


class Worker:
    """Claims and runs tasks from ``store`` with ``executor`` until stopped."""

    def __init__(
        self,
        store: SqlStore,
        executor: Executor,
        config: WorkerConfig | None = None,
        *,
        worker_id: str | None = None,
        warm_devices: Callable[[], list[str]] = list,
        pool_stats: Callable[[], dict[str, Any]] | None = None,
        extra_loops: tuple[BackgroundLoop, ...] = (),
    ) -> None:
        self.store = store
        self.config = config or WorkerConfig()
        self.worker_id = worker_id or new_worker_id()
        self.stats = WorkerStats()
        self.state: WorkerState = "starting"
        self.running = RunningTasks()
        self._warm_devices = warm_devices
        self._pool_stats = pool_stats
        self._extra_loops = extra_loops
        self._stop = asyncio.Event()
        self._hurry = asyncio.Event()
        self._wake = asyncio.Event()
        self._device_ids: dict[str, int] = {}
        self.events = EventBuffer(store, self.worker_id, self.stats)
        self.leases = LeaseKeeper(
            store,
            self.worker_id,
            self.running,
            self.stats,
            lease_s=self.config.lease_s,
            interval_s=self.config.heartbeat_s,
            state=lambda: self.state,
            snapshot=self.snapshot,
            holds_expired=lambda: executor.holds_expired(self.worker_id),
            close_idle=self._close_idle,
            hold_epoch=self._hold_epoch,
            sweep_closed=executor.sweep_closed,
        )
        if executor.ledger is not None:
            executor.ledger.attach(store)
        self.runner = AttemptRunner(
            store,
            self.worker_id,
            executor,
            running=self.running,
            leases=self.leases,
            events=self.events,
            stats=self.stats,
        )

    # --- control -------------------------------------------------------------------

    def stop(self, *, immediate: bool = False) -> None:
        """Stop claiming and drain; ``immediate`` skips the wait for running tasks."""
        if not self._stop.is_set():
            log.info("worker stopping", worker_id=self.worker_id, running=len(self.running))
        self._stop.set()
        if immediate:
            self._hurry.set()

    def rearm(self) -> None:
        """Before running again after ``run`` ended without ``stop()`` (a crash, under a
        supervisor): clear the stop a crashed loop requested."""
        self._stop.clear()
        self._hurry.clear()
        self.state = "starting"

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def snapshot(self) -> dict[str, Any]:
        """Counters, running tasks, memory and pool stats (published with heartbeats)."""
        pool = self._pool_stats() if self._pool_stats is not None else None
        return self.stats.snapshot(running=len(self.running), pool=pool)

    def _hold_epoch(self) -> int:
        ledger = self.runner.executor.ledger
        return ledger.epoch(self.worker_id) if ledger is not None else 0

    def _close_idle(self, beat: HeartbeatResult) -> None:
        """Our idle sessions keep an exclusive task from running: close them."""
        self.runner.executor.close_idle(beat.close_idle)

    # --- main ------------------------------------------------------------------------

    async def run(self) -> None:
        """Register, run every loop until ``stop()``, drain, deregister."""
        await self._register()
        self.state = "running"
        log.info(
            "worker started",
            worker_id=self.worker_id,
            concurrency=self.config.concurrency,
            store=self.store.url,
        )
        background_stop = asyncio.Event()
        loops: list[BackgroundLoop] = [
            self.leases.run,
            Reaper(
                self.store,
                self.stats,
                interval_s=self.config.reap_every,
                deadline_grace_s=self.config.grace,
                on_requeued=self._wake.set,
                retention_s=self.config.retention_s,
                retention_every_s=self.config.retention_every_s,
            ).run,
            self.events.run,
            lambda stop: listen_for_work(self.store, self._wake, stop),
            *self._extra_loops,
        ]
        background: list[asyncio.Task[None]] = [
            asyncio.create_task(fn(background_stop)) for fn in loops
        ]
        for task in background:
            task.add_done_callback(self._loop_ended)
        try:
            await self._claim_loop()
        finally:
            self.state = "draining"
            await self._drain()
            background_stop.set()
            await self._finish_background(background)
            self.state = "stopped"
            await self._deregister()
            log.info("worker stopped", worker_id=self.worker_id, **self._summary())

    async def _register(self) -> None:
        backoff = Backoff(first=0.2, cap=5.0)
        while True:
            try:
                await self.store.workers.register(
                    self.worker_id,
                    hostname=socket.gethostname(),
                    pid=os.getpid(),
                    concurrency=self.config.concurrency,
                )
                return
            except DatabaseUnavailable as exc:
                log.warning("cannot register the worker yet; retrying", error=str(exc))
                if await wait_any(self._stop, timeout=backoff.failed()):
                    raise
                continue

    async def _deregister(self) -> None:
        with contextlib.suppress(NetfleetError):
            await self.store.workers.heartbeat(
                self.worker_id, state="stopped", stats=self.snapshot()
            )

    # --- claiming ----------------------------------------------------------------------

    async def _claim_loop(self) -> None:
        backoff = Backoff(first=0.1, cap=5.0)
        while not self._stop.is_set():
            free = self.config.concurrency - len(self.running)
            if free <= 0:
                await self._wait_for_slot()
                continue
            self._wake.clear()
            self.running.slot_freed.clear()
            try:
                got = await self._claim(free)
            except DatabaseUnavailable as exc:
                self.stats.store_errors += 1
                delay = backoff.failed()
                if backoff.failures == 1 or backoff.failures % 20 == 0:
                    log.warning("claiming failed: store unavailable", error=str(exc))
                await wait_any(self._stop, timeout=delay)
                continue
            except NetfleetError as exc:
                self.stats.store_errors += 1
                log.error("claiming failed", error=str(exc), kind=exc.kind)
                await wait_any(self._stop, timeout=backoff.failed())
                continue
            backoff.reset()
            if got < free:
                # Nothing more is ready for us: sleep until new work, a freed slot
                # (it may unblock a device), or the poll interval.
                await wait_any(
                    self._stop, self._wake, self.running.slot_freed, timeout=self.config.poll_s
                )
                await self._coalesce()

    async def _wait_for_slot(self) -> None:
        await wait_any(self._stop, self.running.slot_freed, timeout=self.config.poll_s)
        await self._coalesce()

    async def _coalesce(self) -> None:
        """Batch claims: with few slots free, give running tasks a moment to free more."""
        if not self.running.slot_freed.is_set() or self._stop.is_set():
            return
        enough = max(1, self.config.concurrency // 10)
        if self.config.concurrency - len(self.running) < enough:
            await asyncio.sleep(self.config.claim_coalesce_s)

    async def _claim(self, limit: int) -> int:
        warm = {self._device_ids[name] for name in self._warm_devices() if name in self._device_ids}
        sent = time.monotonic()
        claimed = await self.store.claims.claim(
            self.worker_id, limit, lease_s=self.config.lease_s, warm_devices=warm
        )
        self.stats.claims += 1
        self.stats.claimed += len(claimed)
        for task in claimed:
            self._start(task, sent)
        return len(claimed)

    def _start(self, task: ClaimedTask, sent: float) -> None:
        self._device_ids[task.device.name] = task.device_id
        if len(self._device_ids) > 100_000:
            self._device_ids.clear()
        self.runner.start(task, requested_at=sent)

    # --- draining ----------------------------------------------------------------------

    async def _drain(self) -> None:
        if not len(self.running):
            return
        log.info(
            "draining running tasks",
            running=len(self.running),
            timeout_s=self.config.drain_timeout_s,
        )
        await wait_any(self.running.empty, self._hurry, timeout=self.config.drain_timeout_s)
        if not len(self.running):
            return
        left = len(self.running)
        self.running.stop_all("shutdown")
        log.warning("handing running tasks back to the queue", tasks=left)
        if await wait_any(self.running.empty, timeout=max(5.0, self.config.heartbeat_s)):
            return
        # Still reporting (database down?): give up; their leases expire and the
        # reaper of another worker recovers them.
        for attempt in self.running:
            if attempt.task is not None:
                attempt.task.cancel()
        await wait_any(self.running.empty, timeout=1.0)

    async def _finish_background(self, tasks: list[asyncio.Task[None]]) -> None:
        _, pending = await asyncio.wait(tasks, timeout=max(2.0, self.config.heartbeat_s))
        for task in pending:
            task.cancel()
        results = await asyncio.gather(*tasks, return_exceptions=True)
        for result in results:
            if isinstance(result, Exception):
                log.error("a worker loop failed", error=repr(result))

    def _loop_ended(self, task: asyncio.Task[None]) -> None:
        if task.cancelled() or task.exception() is None:
            return
        if not self._stop.is_set():
            log.error(
                "a worker loop crashed; shutting the worker down", error=repr(task.exception())
            )
            self.stop()

    def _summary(self) -> dict[str, int]:
        s = self.stats
        return {
            "claimed": s.claimed,
            "succeeded": s.succeeded,
            "failed": s.failed,
            "cancelled": s.cancelled,
            "retries_scheduled": s.retries_scheduled,
            "lease_lost": s.lease_lost,
        }

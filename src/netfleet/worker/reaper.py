"""The reaper and deadline watchdog: recover tasks of dead workers, fail overdue ones,
and apply retention (delete finished jobs older than ``database.retention_days``).

Any worker may run it; the store makes each recovery happen once (in the same
transaction that frees the device slot); retention is idempotent.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable

from netfleet.core.errors import DatabaseUnavailable, NetfleetError
from netfleet.core.logging import get_logger
from netfleet.store import SqlStore
from netfleet.worker.stats import WorkerStats
from netfleet.worker.waiting import sleep_unless

log = get_logger(__name__)


class Reaper:
    """Calls ``store.claims.reap`` and ``store.claims.expire_deadlines`` every
    ``interval_s`` (jittered), and ``store.jobs.delete_finished`` every
    ``retention_every_s`` when ``retention_s`` is set (first at the first sweep)."""

    def __init__(
        self,
        store: SqlStore,
        stats: WorkerStats,
        *,
        interval_s: float,
        deadline_grace_s: float,
        on_requeued: Callable[[], None] = lambda: None,
        retention_s: float | None = None,
        retention_every_s: float = 3600.0,
    ) -> None:
        self._store = store
        self._stats = stats
        self._interval_s = interval_s
        self._grace_s = deadline_grace_s
        self._on_requeued = on_requeued
        self._retention_s = retention_s
        self._retention_every_s = retention_every_s
        self._retention_due = time.monotonic()

    async def run(self, stop: asyncio.Event) -> None:
        """Sweep until ``stop``; failures are logged and retried at the next sweep."""
        while not await sleep_unless(stop, self._interval_s * random.uniform(0.5, 1.0)):
            await self.sweep()
            await self.apply_retention()

    async def sweep(self) -> int:
        """One pass; returns how many tasks it recovered or failed."""
        try:
            reaped = await self._store.claims.reap()
            overdue = await self._store.claims.expire_deadlines(self._grace_s)
        except DatabaseUnavailable as exc:
            self._stats.store_errors += 1
            log.warning("reaper: store unavailable", error=str(exc))
            return 0
        except NetfleetError as exc:
            self._stats.store_errors += 1
            log.error("reaper failed", error=str(exc), kind=exc.kind)
            return 0
        count = len(reaped.requeued) + len(reaped.failed) + len(overdue)
        if count:
            self._stats.reaped += count
            log.warning(
                "recovered tasks of expired leases",
                requeued=list(reaped.requeued)[:50],
                failed=list(reaped.failed)[:50],
                past_deadline=list(overdue)[:50],
            )
        if reaped.holds_freed:
            log.info("freed expired session holds", sessions=reaped.holds_freed)
        if reaped.requeued or reaped.holds_freed:
            self._on_requeued()
        return count

    async def apply_retention(self) -> int:
        """Delete finished jobs older than the retention, if due; returns how many."""
        if self._retention_s is None or time.monotonic() < self._retention_due:
            return 0
        self._retention_due = time.monotonic() + self._retention_every_s
        try:
            deleted = await self._store.jobs.delete_finished(self._retention_s)
        except NetfleetError as exc:
            self._stats.store_errors += 1
            self._retention_due = time.monotonic() + min(60.0, self._retention_every_s)
            log.warning("retention failed; will retry", error=str(exc), kind=exc.kind)
            return 0
        if deleted:
            log.info(
                "retention: deleted finished jobs", jobs=deleted, older_than_s=self._retention_s
            )
        return deleted

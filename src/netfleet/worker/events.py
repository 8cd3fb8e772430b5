"""Task events (claimed, connected, command, retry, error, cancelled), written in batches.

One INSERT per event would cost a transaction per command; the buffer writes
what accumulated every ``interval`` seconds (or sooner when it grows), keeps
events across a database outage, and drops the oldest beyond ``max_pending``
(events are a log; results are never dropped, they go through ``complete``).
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any

from netfleet.core.errors import DatabaseUnavailable, NetfleetError
from netfleet.core.logging import get_logger
from netfleet.store import SqlStore
from netfleet.store.records import NewEvent
from netfleet.worker.stats import WorkerStats
from netfleet.worker.waiting import wait_any

log = get_logger(__name__)


class EventBuffer:
    """Collects ``NewEvent`` and writes them with ``store.completions.record_events``."""

    def __init__(
        self,
        store: SqlStore,
        worker_id: str,
        stats: WorkerStats,
        *,
        interval: float = 0.2,
        batch: int = 500,
        max_pending: int = 100_000,
    ) -> None:
        self._store = store
        self._worker_id = worker_id
        self._stats = stats
        self._interval = interval
        self._batch = batch
        self._pending: deque[NewEvent] = deque()
        self._max_pending = max_pending
        self._wake = asyncio.Event()
        self._flush_lock = asyncio.Lock()

    def __len__(self) -> int:
        return len(self._pending)

    def add(self, task_id: int, kind: str, message: str = "", **data: Any) -> None:
        """Queue one event for ``task_id`` (never blocks, never raises)."""
        if len(self._pending) >= self._max_pending:
            self._pending.popleft()
            self._stats.events_dropped += 1
        self._pending.append(NewEvent(task_id=task_id, kind=kind, message=message, data=data))
        if len(self._pending) >= self._batch:
            self._wake.set()

    async def flush(self) -> bool:
        """Write everything pending; False if the store failed (events stay queued)."""
        async with self._flush_lock:
            while self._pending:
                chunk = [self._pending[i] for i in range(min(self._batch, len(self._pending)))]
                try:
                    await self._store.completions.record_events(self._worker_id, chunk)
                except DatabaseUnavailable:
                    return False
                except NetfleetError as exc:
                    # A bad batch must not block the rest forever: drop it, say so.
                    log.warning("task events dropped", count=len(chunk), error=str(exc))
                    self._stats.events_dropped += len(chunk)
                for _ in chunk:
                    self._pending.popleft()
            return True

    async def run(self, stop: asyncio.Event) -> None:
        """Flush every ``interval`` until ``stop`` is set, then once more."""
        delay = self._interval
        while not stop.is_set():
            await wait_any(self._wake, stop, timeout=delay)
            self._wake.clear()
            ok = await self.flush()
            delay = self._interval if ok else min(max(delay * 2, self._interval), 5.0)
        await self.flush()

"""Batched writes of a worker: attempt outcomes (``Completer``) and task events
(``EventBuffer``).

Outcomes: with hundreds of attempts finishing each second, one transaction per
result would make the database the bottleneck. Results arriving within
``linger_s`` of each other are written together with
``store.completions.complete_many``; each caller still gets its own
``Completion`` or ``LeaseLost``. A store failure fails the whole batch; callers
retry.

Events (claimed, connected, command, retry, error, cancelled): one INSERT per
event would cost a transaction per command; the buffer writes what accumulated
every ``interval`` seconds (or sooner when it grows), keeps events across a
database outage, and drops the oldest beyond ``max_pending`` (events are a log;
results are never dropped, they go through the ``Completer``).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from netfleet.core.errors import DatabaseUnavailable, LeaseLost, NetfleetError
from netfleet.core.logging import get_logger
from netfleet.store import SqlStore
from netfleet.store.records import Completion, NewEvent, TaskOutcome
from netfleet.worker.stats import WorkerStats
from netfleet.worker.waiting import wait_any

log = get_logger(__name__)

Item = tuple[int, int, TaskOutcome]


class Completer:
    """``await complete(task_id, attempt, outcome)``, batched behind the scenes."""

    def __init__(
        self,
        store: SqlStore,
        worker_id: str,
        *,
        before: Callable[[], Awaitable[object]] | None = None,
        max_batch: int = 200,
        linger_s: float = 0.01,
    ) -> None:
        self._store = store
        self._worker_id = worker_id
        self._before = before
        """Runs before each batch (flushes task events, so they precede the result)."""
        self._max_batch = max_batch
        self._linger_s = linger_s
        self._pending: list[tuple[Item, asyncio.Future[Completion | None]]] = []
        self._flusher: asyncio.Task[None] | None = None
        self.batches = 0

    async def complete(self, task_id: int, attempt: int, outcome: TaskOutcome) -> Completion:
        """SqlStore the outcome; ``LeaseLost`` if fenced out; store errors propagate."""
        future: asyncio.Future[Completion | None] = asyncio.get_running_loop().create_future()
        self._pending.append(((task_id, attempt, outcome), future))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush())
        result = await future
        if result is None:
            raise LeaseLost(
                f"task {task_id} attempt {attempt}: lease lost; worker {self._worker_id} no "
                "longer holds it; its result was not recorded"
            )
        return result

    async def _flush(self) -> None:
        await asyncio.sleep(self._linger_s)
        while self._pending:
            batch = self._pending[: self._max_batch]
            del self._pending[: self._max_batch]
            live = [(item, fut) for item, fut in batch if not fut.done()]
            if not live:
                continue
            try:
                if self._before is not None:
                    await self._before()
                results = await self._store.completions.complete_many(
                    self._worker_id, [item for item, _ in live]
                )
            except NetfleetError as exc:
                _fail(live, exc)
                continue
            except BaseException as exc:  # cancelled (worker stopping hard) or a bug
                _fail(live, exc if isinstance(exc, Exception) else RuntimeError("cancelled"))
                raise
            self.batches += 1
            for (_, fut), result in zip(live, results, strict=True):
                if not fut.done():
                    fut.set_result(result)


def _fail(batch: list[tuple[Item, asyncio.Future[Completion | None]]], exc: Exception) -> None:
    for _, fut in batch:
        if not fut.done():
            fut.set_exception(exc)


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

"""Reporting attempt outcomes in batches: many ``complete`` calls, one transaction.

With hundreds of attempts finishing each second, one transaction per result
would make the database the bottleneck. Results arriving within ``linger_s`` of
each other are written together with ``store.completions.complete_many``; each caller still
gets its own ``Completion`` or ``LeaseLost``. A store failure fails the whole
batch; callers retry.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from netfleet.core.errors import LeaseLost, NetfleetError
from netfleet.store import SqlStore
from netfleet.store.records import Completion, TaskOutcome

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

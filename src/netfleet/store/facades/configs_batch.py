"""Backup writes of many devices in one transaction (``store.configs.record``).

A fleet backup finishes hundreds of devices a second; one write transaction each (new
version, last attempt, retention, the ``config_changed`` event) queues them on the store
thread. Writes arriving within ``linger_s`` of each other run together in one
transaction, each in its own savepoint, so that one failing write fails only its caller.
Everything they need (diff, blobs) is computed before they are queued.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from typing import Any

from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection

from netfleet.core.errors import NetfleetError
from netfleet.store.database import Database
from netfleet.store.engine import translate

Op = Callable[[Connection], Any]


class WriteBatch:
    """``await run(op)``: ``op(conn)`` in a transaction shared with the ops queued with it."""

    def __init__(self, db: Database, *, linger_s: float = 0.005, max_batch: int = 200) -> None:
        self._db = db
        self._linger_s = linger_s
        self._max_batch = max_batch
        self._pending: list[tuple[Op, asyncio.Future[Any]]] = []
        self._flusher: asyncio.Task[None] | None = None
        self.batches = 0

    async def run(self, op: Op) -> Any:
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending.append((op, future))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush())
        return await future

    async def _flush(self) -> None:
        await asyncio.sleep(self._linger_s)
        while self._pending:
            batch = self._pending[: self._max_batch]
            del self._pending[: self._max_batch]
            live = [(op, fut) for op, fut in batch if not fut.done()]
            if not live:
                continue
            try:
                outcomes = await self._db.run(
                    functools.partial(_each, ops=[op for op, _ in live]),
                    what=f"store {len(live)} configuration backups",
                )
            except NetfleetError as exc:
                for _, fut in live:
                    if not fut.done():
                        fut.set_exception(exc)
                continue
            except BaseException as exc:  # cancelled (worker stopping hard) or a bug
                for _, fut in live:
                    if not fut.done():
                        fut.set_exception(
                            exc if isinstance(exc, Exception) else RuntimeError("cancelled")
                        )
                raise
            self.batches += 1
            for (_, fut), (ok, value) in zip(live, outcomes, strict=True):
                if fut.done():
                    continue
                if ok:
                    fut.set_result(value)
                else:
                    fut.set_exception(value)


def _each(conn: Connection, ops: list[Op]) -> list[tuple[bool, Any]]:
    """Each op in its own savepoint: (True, result) or (False, its NetfleetError)."""
    out: list[tuple[bool, Any]] = []
    for op in ops:
        try:
            with conn.begin_nested():
                out.append((True, op(conn)))
        except NetfleetError as exc:
            out.append((False, exc))
        except sa_exc.IntegrityError as exc:  # this op's constraint: the others go on
            out.append((False, translate(exc, "store a configuration backup")))
    return out

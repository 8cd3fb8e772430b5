"""Backup writes of many devices in one transaction (``store.configs.record``).

A fleet backup finishes hundreds of devices a second; one write transaction each (new
version, last attempt, retention, the ``config_changed`` event) queues them on the store
thread. Writes arriving within ``linger_s`` of each other run together in one
transaction; when one fails, the batch runs again with each write in its own savepoint,
so that a failing write fails only its caller. Their ``config_changed`` events are
inserted together at the end, and their notes of the last attempt run as one
``executemany`` of the update (isolated: each op's own in its savepoint).
Everything they need (diff, blobs) is computed before they are queued.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection

from netfleet.core.errors import NetfleetError
from netfleet.store.database import Database
from netfleet.store.engine import translate
from netfleet.store.records import NewEvent
from netfleet.store.sql import configs as sql
from netfleet.store.sql import events as events_sql

Events = list[tuple[str, NewEvent]]


@dataclass(slots=True)
class Later:
    """What the writes of a batch leave to its end: (worker id, event) pairs and the
    good backup attempts to note (``configs.AttemptNote``)."""

    events: Events = field(default_factory=list)
    notes: list[sql.AttemptNote] = field(default_factory=list)

    def mark(self) -> tuple[int, int]:
        return len(self.events), len(self.notes)

    def drop(self, mark: tuple[int, int]) -> None:
        del self.events[mark[0] :]
        del self.notes[mark[1] :]

    def flush(self, conn: Connection, clock: Callable[[Connection], float]) -> None:
        """Note the attempts and insert the events, then forget them."""
        if self.notes:
            sql.note_good_attempts(conn, self.notes)
            self.notes.clear()
        if self.events:
            now = clock(conn)
            by_worker: dict[str, list[NewEvent]] = {}
            for worker_id, event in self.events:
                by_worker.setdefault(worker_id, []).append(event)
            for worker_id, batch in by_worker.items():
                events_sql.record_events(conn, worker_id, batch, now)
            self.events.clear()


Op = Callable[[Connection, Later], Any]
"""A write: ``op(conn, later)`` may append events and attempt notes to ``later``
instead of writing them; they are written together after the batch's writes."""


class WriteBatch:
    """``await run(op)``: ``op(conn, events)`` in a transaction shared with the ops queued
    with it."""

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
            ops = [op for op, _ in live]
            what = f"store {len(live)} configuration backups"
            try:
                try:  # all at once; if one fails, again with a savepoint each
                    run = functools.partial(_each, ops=ops, clock=self._db.clock, isolate=False)
                    outcomes = await self._db.run(run, what=what)
                except NetfleetError:
                    run = functools.partial(_each, ops=ops, clock=self._db.clock, isolate=True)
                    outcomes = await self._db.run(run, what=what)
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


def _each(
    conn: Connection, ops: list[Op], clock: Callable[[Connection], float], *, isolate: bool
) -> list[Any]:
    """Each op, with ``isolate`` in its own savepoint: (True, result) or (False, its
    NetfleetError); then the notes and events the ops that succeeded left. Without
    ``isolate`` a failing op fails the transaction (the caller runs the batch again
    isolated); with it each op's notes are written in its savepoint."""
    out: list[tuple[bool, Any]] = []
    later = Later()
    for op in ops:
        if not isolate:
            out.append((True, op(conn, later)))
            continue
        mark = later.mark()
        try:
            with conn.begin_nested():
                out.append((True, op(conn, later)))
                if later.notes:
                    sql.note_good_attempts(conn, later.notes)
                    later.notes.clear()
        except NetfleetError as exc:
            later.drop(mark)
            out.append((False, exc))
        except sa_exc.IntegrityError as exc:  # this op's constraint: the others go on
            later.drop(mark)
            out.append((False, translate(exc, "store a configuration backup")))
    later.flush(conn, clock)
    return out

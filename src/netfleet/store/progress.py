"""One shared notifier for live job streams (API event streams, dashboard SSE).

Polling the database from every open stream costs CPU in proportion to the streams
(400 idle streams took a core). ``StreamHub`` polls once per tick for all of them:
one query reads the progress (state, task counts, last event id) of every watched
job, and every ``token_check_s`` one query checks that the watching tokens are not
revoked. A stream sleeps in ``Subscription.wait`` until its job changed, its token
was revoked, the service stops, or its timeout passes; only then does it read its
job. The hub's loop runs while someone subscribes. It also counts streams per token
(``TooManyStreams`` beyond the limit).
"""

from __future__ import annotations

import asyncio
import contextlib
import time

from sqlalchemy.engine import Connection

from netfleet.core.errors import NetfleetError, TooManyStreams
from netfleet.core.logging import get_logger
from netfleet.store.sql import progress as progress_sql
from netfleet.store.sql.progress import JobProgress
from netfleet.store.sql_store import SqlStore

log = get_logger(__name__)

__all__ = ["JobProgress", "StreamHub", "Subscription"]


class Subscription:
    """One stream's interest in one job; use as a context manager (or ``close()``)."""

    def __init__(self, hub: StreamHub, job_id: int, key: str, token_id: int | None) -> None:
        self.hub = hub
        self.job_id = job_id
        self.key = key
        self.token_id = token_id
        self.revoked = False
        self.gone = False
        """The job no longer exists."""
        self.progress: JobProgress | None = None
        self._changed = asyncio.Event()
        self._closed = False

    def __enter__(self) -> Subscription:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self.hub.remove(self)

    def notify(self) -> None:
        self._changed.set()

    async def wait(self, timeout: float) -> bool:
        """Until the job changed, the token was revoked or the service stops (True), or
        ``timeout`` seconds passed (False)."""
        stopping = self.hub.stopping
        if stopping is not None and stopping.is_set():
            return True
        waiters = [asyncio.ensure_future(self._changed.wait())]
        if stopping is not None:
            waiters.append(asyncio.ensure_future(stopping.wait()))
        try:
            done, _ = await asyncio.wait(
                waiters, timeout=max(0.0, timeout), return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            for w in waiters:
                w.cancel()
        self._changed.clear()
        return bool(done)


class StreamHub:
    """Polls the progress of watched jobs once per ``poll_s`` for every subscriber."""

    def __init__(
        self,
        store: SqlStore,
        *,
        poll_s: float = 0.25,
        token_check_s: float = 5.0,
        stopping: asyncio.Event | None = None,
    ) -> None:
        self.store = store
        self.poll_s = poll_s
        self.token_check_s = token_check_s
        self.stopping = stopping
        self.polls = 0
        """Database polls so far (for tests and benchmarks)."""
        self._subs: dict[int, set[Subscription]] = {}
        self._per_key: dict[str, int] = {}
        self._last: dict[int, JobProgress] = {}
        self._task: asyncio.Task[None] | None = None
        self._tick = asyncio.Event()
        self._checked_tokens_at = time.monotonic()

    def streams(self, key: str) -> int:
        """Open streams of ``key`` (a token)."""
        return self._per_key.get(key, 0)

    def check_limit(self, key: str, limit: int) -> None:
        """``TooManyStreams`` if ``key`` holds ``limit`` streams already (0: no limit)."""
        if limit and self._per_key.get(key, 0) >= limit:
            raise TooManyStreams(
                f"token {key!r} has {limit} live event streams open already "
                "(service.event_streams_per_token); close one first"
            )

    def subscribe(
        self, job_id: int, *, key: str, token_id: int | None, limit: int = 0
    ) -> Subscription:
        """Watch ``job_id`` for the token ``key``; ``TooManyStreams`` past ``limit`` (0: none).
        Subscribe where the subscription is sure to be closed (inside the stream)."""
        self.check_limit(key, limit)
        sub = Subscription(self, job_id, key, token_id)
        self._subs.setdefault(job_id, set()).add(sub)
        self._per_key[key] = self._per_key.get(key, 0) + 1
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run())
        return sub

    async def next_poll(self, timeout: float = 5.0) -> None:
        """Until the hub has polled once more (or ``timeout``)."""
        self._tick.clear()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                await self._tick.wait()

    def remove(self, sub: Subscription) -> None:
        """Forget a closed subscription (``Subscription.close`` calls this)."""
        subs = self._subs.get(sub.job_id)
        if subs is not None:
            subs.discard(sub)
            if not subs:
                del self._subs[sub.job_id]
                self._last.pop(sub.job_id, None)
        left = self._per_key.get(sub.key, 1) - 1
        if left > 0:
            self._per_key[sub.key] = left
        else:
            self._per_key.pop(sub.key, None)

    async def _run(self) -> None:
        while self._subs:
            await asyncio.sleep(self.poll_s)
            if not self._subs:
                break
            try:
                await self._poll()
            except NetfleetError as exc:
                log.warning("stream hub: cannot read job progress", error=str(exc))
            except Exception as exc:
                log.error("stream hub: unexpected error", error_type=type(exc).__name__)
            self._tick.set()

    async def _poll(self) -> None:
        job_ids = sorted(self._subs)
        check_tokens = time.monotonic() - self._checked_tokens_at >= self.token_check_s
        token_ids = sorted(
            {s.token_id for subs in self._subs.values() for s in subs if s.token_id is not None}
            if check_tokens
            else set()
        )

        def read(conn: Connection) -> tuple[dict[int, JobProgress], set[int] | None]:
            live = progress_sql.live_tokens(conn, token_ids) if token_ids else None
            return progress_sql.job_progress(conn, job_ids), live

        progress, live = await self.store.db.run(
            read, what="read the progress of streamed jobs", write=False
        )
        self.polls += 1
        if check_tokens:
            self._checked_tokens_at = time.monotonic()
        for job_id in job_ids:
            subs = list(self._subs.get(job_id, ()))
            now = progress.get(job_id)
            changed = now != self._last.get(job_id)
            if now is None:
                self._last.pop(job_id, None)
            else:
                self._last[job_id] = now
            for sub in subs:
                sub.progress = now
                if now is None and not sub.gone:
                    sub.gone = True
                    sub.notify()
                elif changed:
                    sub.notify()
                if live is not None and sub.token_id is not None and sub.token_id not in live:
                    sub.revoked = True
                    sub.notify()

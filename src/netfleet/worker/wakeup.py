"""Wake-ups for the claim loop: NOTIFY (PostgreSQL) or in-process signals, plus a poll."""

from __future__ import annotations

import asyncio
import contextlib

from netfleet.core.errors import DatabaseUnavailable, NetfleetError
from netfleet.core.logging import get_logger
from netfleet.store import SqlStore
from netfleet.worker.waiting import Backoff, sleep_unless, wait_any

log = get_logger(__name__)


async def listen_for_work(store: SqlStore, wake: asyncio.Event, stop: asyncio.Event) -> None:
    """Set ``wake`` whenever the store says work may be ready, until ``stop`` is set.

    A notification may be missed while reconnecting; the claim loop's poll covers it,
    and every reconnect sets ``wake`` once so the gap is checked at once.
    """
    listener = asyncio.create_task(_listen(store, wake, stop))
    try:
        await wait_any(stop, timeout=None)
    finally:
        listener.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await listener


async def _listen(store: SqlStore, wake: asyncio.Event, stop: asyncio.Event) -> None:
    backoff = Backoff(first=0.2, cap=5.0)
    while not stop.is_set():
        try:
            async for _ in store.listen():
                backoff.reset()
                wake.set()
                if stop.is_set():
                    return
            return  # the store has nothing to listen to; polling alone serves
        except DatabaseUnavailable as exc:
            log.info("work notifications interrupted; reconnecting", error=str(exc))
        except NetfleetError as exc:
            log.warning("work notifications failed", error=str(exc), kind=exc.kind)
        if await sleep_unless(stop, backoff.failed()):
            return
        wake.set()

"""Opening the store at start-up, waiting while the database is unreachable (a worker
or the service started during an outage waits for it instead of exiting)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from netfleet.core.errors import DatabaseUnavailable, NetfleetError
from netfleet.core.logging import get_logger
from netfleet.core.settings import Settings
from netfleet.store import SqlStore, open_store
from netfleet.worker.waiting import Backoff

WAIT_LOG_EVERY_S = 30.0
"""While the database is unreachable, one warning per this many seconds."""

AUTOVACUUM_OFF = (
    "PostgreSQL autovacuum is off: the task and session-hold tables keep every dead row "
    "version, and claims and heartbeats slow down the longer the store runs; turn "
    "autovacuum on (or VACUUM the database regularly)"
)


async def open_waiting(
    settings: Settings,
    *,
    who: str = "the worker",
    cap_s: float = 10.0,
    log_every_s: float = WAIT_LOG_EVERY_S,
) -> SqlStore:
    """Open (and migrate) the store, retrying with backoff (0.5 s doubling to
    ``cap_s``) while the database is unreachable; one warning per ``log_every_s``.
    Other errors (bad URL, failed migration) raise at once. Then warns if PostgreSQL's
    autovacuum is off (``warn_autovacuum_off``)."""
    log = get_logger("netfleet.worker" if who == "the worker" else "netfleet.service")
    backoff = Backoff(first=0.5, cap=cap_s)
    last_logged = float("-inf")
    while True:
        try:
            store = await open_store(settings.database.url, settings=settings)
        except DatabaseUnavailable as exc:
            delay = backoff.failed()
            now = time.monotonic()
            if now - last_logged >= log_every_s:
                last_logged = now
                log.warning(
                    f"database unavailable; {who} waits for it",
                    error=str(exc),
                    attempts=backoff.failures,
                    retry_in_s=delay,
                )
            await asyncio.sleep(delay)
            continue
        await warn_autovacuum_off(store, log)
        return store


async def warn_autovacuum_off(store: SqlStore, log: Any) -> bool:
    """Warn (once, at start-up) when PostgreSQL's autovacuum is off; True if it warned.
    A failed check is no reason not to start: it counts as on."""
    try:
        off = await store.autovacuum_off()
    except NetfleetError:
        return False
    if off:
        log.warning(AUTOVACUUM_OFF)
    return off

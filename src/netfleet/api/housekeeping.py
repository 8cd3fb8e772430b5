"""The service's periodic housekeeping: audit retention, ended dashboard sessions.

Runs in ``netfleet serve`` (supervised with the embedded loops) at start and every
``service.housekeeping_seconds``: deletes audit entries older than
``service.audit_retention_days`` (0 keeps them) and dashboard sessions that expired
or sat idle longer than ``service.session_idle_seconds``.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass

from netfleet.core.errors import NetfleetError
from netfleet.core.logging import get_logger
from netfleet.core.settings import Settings
from netfleet.store import SqlStore

log = get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Swept:
    audit_entries: int
    sessions: int


async def sweep(store: SqlStore, settings: Settings) -> Swept:
    """One round of housekeeping; what it deleted."""
    service = settings.service
    days = service.audit_retention_days
    audit = await store.audit.prune(days * 86_400.0) if days > 0 else 0
    sessions = await store.sessions.prune(idle_s=service.session_idle_seconds)
    if audit or sessions:
        log.info(
            "housekeeping",
            audit_entries_deleted=audit,
            retention_days=days,
            sessions_ended=sessions,
        )
    return Swept(audit, sessions)


async def run_housekeeping(store: SqlStore, settings: Settings, stop: asyncio.Event) -> None:
    """``sweep`` now and every ``service.housekeeping_seconds`` until ``stop``."""
    while not stop.is_set():
        try:
            await sweep(store, settings)
        except NetfleetError as exc:  # the database may be away: try again next round
            log.warning("housekeeping failed; retrying later", error=str(exc))
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(settings.service.housekeeping_seconds):
                await stop.wait()

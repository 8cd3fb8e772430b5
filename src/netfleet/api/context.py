"""What every route needs: the store, the settings and the embedded runtime (if any)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

from fastapi import Request

from netfleet.core.settings import Settings
from netfleet.pool import PoolStats
from netfleet.store import SqlStore


class Runtime(Protocol):
    """The loops ``netfleet serve`` runs in its process: workers (none with
    ``--workers 0``), scheduler, device watcher, housekeeping."""

    def pool_stats(self) -> PoolStats | None:
        """The shared session pool's statistics."""

    def retire(self, devices: Iterable[str]) -> int:
        """Retire pooled sessions of ``devices`` (their settings or credentials changed)."""

    def down(self) -> dict[str, str]:
        """Embedded components that are down now (crashed, awaiting restart), with why."""

    def restarts(self) -> dict[str, int]:
        """Restarts per embedded component since start."""

    def components(self) -> list[str]:
        """The embedded components started (``worker ID``, ``scheduler``, ``housekeeping`` ...)."""

    @property
    def worker_count(self) -> int:
        """How many workers run in this process."""


@dataclass(slots=True)
class ServiceContext:
    store: SqlStore
    settings: Settings
    runtime: Runtime | None = None
    started_at: float = field(default_factory=time.time)
    stopping: asyncio.Event = field(default_factory=asyncio.Event)
    """Set at shutdown: live event streams end."""
    stream_poll_s: float = 0.25

    def retire(self, devices: Iterable[str]) -> None:
        if self.runtime is not None:
            self.runtime.retire(devices)


def context(request: Request) -> ServiceContext:
    ctx: ServiceContext = request.app.state.netfleet
    return ctx


def store_of(request: Request) -> SqlStore:
    return context(request).store

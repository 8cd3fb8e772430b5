"""What every dashboard route needs: the store, the settings, the signed-in user."""

from __future__ import annotations

import asyncio
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request

from netfleet.core.settings import Settings
from netfleet.store import SqlStore
from netfleet.store.progress import StreamHub
from netfleet.store.sql.tokens import Role

PREFIX = "/ui"
RANK: dict[str, int] = {"viewer": 0, "operator": 1, "admin": 2}


@dataclass(frozen=True, slots=True)
class User:
    """Who is signed in: the token's name and role."""

    name: str
    role: Role
    token_id: int | None = None

    def allows(self, role: Role) -> bool:
        return RANK[self.role] >= RANK[role]


@dataclass(slots=True)
class Dashboard:
    """Per-app dashboard state (``app.state.dashboard``)."""

    store: SqlStore
    settings: Settings
    prefix: str = PREFIX
    csrf_secret: bytes = field(default_factory=lambda: secrets.token_bytes(32))
    """Signs CSRF tokens; new per process (forms older than a restart need a reload)."""
    stopping: asyncio.Event | None = None
    """Set when the service shuts down: live streams end."""
    stream_poll_s: float = 0.5
    overview_max_age_s: float = 2.0
    cache: dict[str, tuple[float, Any]] = field(default_factory=dict)
    hub: StreamHub | None = None
    """The shared notifier of live streams (made on first use)."""

    @property
    def alive_s(self) -> float:
        """A worker is alive when its heartbeat is this recent (the API uses the same)."""
        w = self.settings.worker
        return max(w.lease_seconds, 3 * w.heartbeat_seconds)

    def cached(self, key: str) -> Any | None:
        hit = self.cache.get(key)
        if hit is None or time.monotonic() - hit[0] > self.overview_max_age_s:
            return None
        return hit[1]

    def remember(self, key: str, value: Any) -> None:
        self.cache[key] = (time.monotonic(), value)

    def url(self, path: str = "/") -> str:
        return self.prefix + path


def dashboard(request: Request) -> Dashboard:
    board: Dashboard = request.app.state.dashboard
    return board

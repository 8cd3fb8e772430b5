"""The pool's bookkeeping records: sessions (entries), devices, waiters, leases.

Only ``SessionPool`` mutates these, on its event loop (see ``netfleet.pool.pool``).
"""

from __future__ import annotations

import asyncio
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Generic, Literal, TypeVar

from netfleet.core.errors import NetfleetError
from netfleet.pool.keys import SessionKey
from netfleet.pool.session import PooledSession
from netfleet.pool.stats import DeviceCounters

S = TypeVar("S", bound=PooledSession)
EntryState = Literal["idle", "busy", "closing"]


@dataclass(eq=False, slots=True)
class Entry(Generic[S]):
    session: S
    key: SessionKey
    device: DeviceState[S]
    generation: int
    created: float
    expires: float
    last_used: float
    uses: int = 0
    state: EntryState = "busy"


@dataclass(eq=False, slots=True)
class DeviceState(Generic[S]):
    name: str
    max_sessions: int
    fingerprint: str
    generation: int = 0
    credential: str = ""
    """Fingerprint of the credential of the newest successful login."""
    slots: int = 0
    """Sessions opening, idle, in use or closing."""
    room_closing: int = 0
    """Idle sessions being closed to make room for a waiter."""
    idle: deque[Entry[S]] = field(default_factory=deque)
    busy: set[Entry[S]] = field(default_factory=set)
    counters: DeviceCounters = field(default_factory=DeviceCounters)
    logging_in: Counter[SessionKey] = field(default_factory=Counter)
    """Logins in progress, per key."""

    @property
    def opening(self) -> int:
        """Sessions being opened (logins in progress) on this device."""
        return sum(self.logging_in.values())

    def begin_login(self, key: SessionKey) -> None:
        self.logging_in[key] += 1

    def end_login(self, key: SessionKey) -> None:
        self.logging_in[key] -= 1
        if self.logging_in[key] <= 0:
            del self.logging_in[key]


@dataclass(eq=False, slots=True)
class Waiter(Generic[S]):
    key: SessionKey
    device: DeviceState[S]
    future: asyncio.Future[Entry[S] | None]
    """Result: an idle entry handed over, or None for a slot to open a new session."""
    since: float
    """Loop time when it started waiting."""
    timer: asyncio.TimerHandle | None = None
    """Wakes the dispatcher when its patience for an in-use session runs out."""


@dataclass(eq=False, slots=True)
class Lease(Generic[S]):
    """A checked-out session. Return it with ``SessionPool.release`` (or use ``lease()``)."""

    session: S
    key: SessionKey
    reused: bool
    waited_s: float
    login_s: float
    _entry: Entry[S] = field(repr=False)
    discard: bool = False
    """Set to close the session on release instead of keeping it."""


def stale_reason(entry: Entry[S], now: float, max_uses: int) -> str | None:
    """Why a session must not be used again (closed, retired, expired ...), or None."""
    dev = entry.device
    if entry.session.closed:
        return "closed"
    if entry.generation != dev.generation:
        return "retired"
    if dev.credential and entry.key.credential != dev.credential:
        return "credentials_changed"
    if max_uses and entry.uses >= max_uses:
        return "max_uses"
    if now >= entry.expires:
        return "lifetime"
    return None


def release_reason(entry: Entry[S], error: BaseException | None, discard: bool) -> str | None:
    """Why a returned session must be closed rather than kept, judged by how its job ended."""
    if entry.session.closed:
        return "closed"
    if entry.session.dirty or (error is not None and not isinstance(error, NetfleetError)):
        return "dirty"  # interrupted mid-command, cancelled, or an unexpected error
    if discard:
        return "discarded"
    return None

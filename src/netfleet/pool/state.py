"""Slot accounting and waiter dispatch: the state machine under ``SessionPool``.

Everything here is synchronous except the background close tasks, so each
method runs atomically on the pool's event loop (no lock needed). A slot is
counted from before a login until after the session's close has finished.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Callable, Coroutine
from typing import Generic, Literal, TypeVar

from netfleet.core.models import DeviceSpec
from netfleet.core.settings import PoolSettings
from netfleet.pool.admission import LoginAdmission
from netfleet.pool.entries import DeviceState, Entry, Waiter
from netfleet.pool.session import PooledSession

S = TypeVar("S", bound=PooledSession)
FIRST_LOGIN_GUESS_S = 1.0
"""Assumed login time of a device before its first login has finished."""


class PoolState(Generic[S]):
    """Devices, idle sessions, waiters and slot counts of one pool."""

    def __init__(
        self,
        factory: Callable[[DeviceSpec], S],
        settings: PoolSettings | None = None,
        *,
        max_total: int = 1000,
        idle_timeout_s: float = 300.0,
        reuse: bool = True,
        reaper_interval_s: float | None = None,
    ) -> None:
        self._factory = factory
        self._s = settings or PoolSettings()
        self._max_total = max_total
        self._idle_timeout = idle_timeout_s
        self._reuse = reuse
        self._reaper_interval = reaper_interval_s or max(0.05, min(30.0, idle_timeout_s / 4))
        self._admission = LoginAdmission(
            max_concurrent=self._s.max_concurrent_logins,
            rate=self._s.logins_per_second_per_device,
            jitter_ms=self._s.login_jitter_ms,
            backoff_s=self._s.auth_failure_backoff_seconds,
        )
        self._devices: dict[str, DeviceState[S]] = {}
        self._waiters: deque[Waiter[S]] = deque()
        self._slots = 0
        self._idle_total = 0
        self._room_closing = 0
        self._closing = False
        self._tasks: set[asyncio.Task[None]] = set()
        self._reaper: asyncio.Task[None] | None = None
        self._drained = asyncio.Event()
        self._freed: dict[str, list[asyncio.Future[None]]] = {}
        """Callers of ``until_at_most`` waiting for a device's session to finish closing."""
        self._budget: Callable[[str], int] | None = None
        self._on_freed: Callable[[str], None] | None = None

    def bind_budget(
        self, budget: Callable[[str], int], on_freed: Callable[[str], None] = lambda _: None
    ) -> None:
        """Limit each device's sessions (opening, idle, in use, closing) to ``budget(name)``
        too — the sessions an outside counter (the store) allows this pool — and call
        ``on_freed(name)`` after each session of the device has closed (its slot is free).

        Used by the worker: the store counts a device's sessions per worker."""
        self._budget = budget
        self._on_freed = on_freed

    def sessions(self, device: str) -> int:
        """Sessions of ``device`` counted now: opening, idle, in use or closing."""
        dev = self._devices.get(device)
        return dev.slots if dev is not None else 0

    def _limit(self, dev: DeviceState[S]) -> int:
        if self._budget is None:
            return dev.max_sessions
        return min(dev.max_sessions, self._budget(dev.name))

    def close_idle(self, device: str, reason: str = "closed_idle", *, keep: int = 0) -> int:
        """Close idle sessions of ``device``, least recently used first, until at most
        ``keep`` of its sessions stay open (opening, idle or in use); returns how many."""
        dev = self._devices.get(device)
        if dev is None:
            return 0
        count = 0
        while dev.idle and len(dev.idle) + len(dev.busy) + dev.opening > keep:
            self._discard(dev.idle[0], reason)
            count += 1
        return count

    async def until_at_most(self, device: str, n: int, timeout: float | None = None) -> bool:
        """Wait until ``device`` has at most ``n`` sessions counted (closing ones too: their
        close has finished); ``False`` if that takes longer than ``timeout`` (at most the
        close timeout and a second)."""
        loop = asyncio.get_running_loop()
        limit = self._s.close_timeout_seconds + 1.0
        end = loop.time() + (limit if timeout is None else min(timeout, limit))
        while self.sessions(device) > n:
            future: asyncio.Future[None] = loop.create_future()
            self._freed.setdefault(device, []).append(future)
            try:
                async with asyncio.timeout_at(end):
                    await future
            except TimeoutError:
                return self.sessions(device) <= n
        return True

    def _abandon(self, waiter: Waiter[S]) -> None:
        """A waiter gave up (timeout, cancel): drop it and give back what it was handed."""
        with contextlib.suppress(ValueError):
            self._waiters.remove(waiter)
        if waiter.timer is not None:
            waiter.timer.cancel()
        fut = waiter.future
        if not fut.done():
            fut.cancel()
            return
        if fut.cancelled() or fut.exception() is not None:
            return
        entry = fut.result()
        dev = waiter.device
        if entry is None:
            dev.end_login(waiter.key)
            self._free_slot(dev)
        else:
            dev.busy.discard(entry)
            entry.state = "idle"
            dev.idle.append(entry)
            self._idle_total += 1
            self._dispatch()

    def _dispatch(self) -> None:
        """Hand idle sessions and free slots to waiters, oldest first."""
        if not self._waiters:
            return
        blocked: set[str] = set()
        need_room = 0  # waiters (so far) that need a pool-wide slot that is not free
        for waiter in list(self._waiters):
            if waiter.future.done():  # cancelled; its task has not run ``_abandon`` yet
                self._waiters.remove(waiter)
                continue
            dev = waiter.device
            if dev.name in blocked:
                continue  # an older waiter for this device comes first
            grant = self._try_grant(waiter, need_room)
            if grant == "blocked_device":
                blocked.add(dev.name)
                continue
            if grant == "blocked_global":
                need_room += 1
                blocked.add(dev.name)
                if self._idle_total == 0:
                    break
                continue
            self._waiters.remove(waiter)
            if waiter.timer is not None:
                waiter.timer.cancel()
            waiter.future.set_result(grant if isinstance(grant, Entry) else None)

    def _try_grant(
        self, waiter: Waiter[S], need_room: int
    ) -> Entry[S] | Literal["slot", "blocked_device", "blocked_global"]:
        """Serve ``waiter`` now if possible; else start closing an idle session to make
        room (one per device; pool-wide, one per waiter in need) and report it blocked."""
        dev, key = waiter.device, waiter.key
        for entry in reversed(dev.idle):  # newest first: older ones may then time out
            if entry.key == key:
                dev.idle.remove(entry)
                self._idle_total -= 1
                entry.state = "busy"
                dev.busy.add(entry)
                return entry
        if dev.slots >= self._limit(dev):
            if dev.idle and dev.room_closing == 0:
                dev.room_closing += 1
                self._discard(dev.idle[0], "make_room", room=True)
            return "blocked_device"
        if self._worth_waiting(waiter):
            return "blocked_device"
        if need_room or self._slots >= self._max_total:
            if self._room_closing <= need_room and self._idle_total:
                victim = min(
                    (d.idle[0] for d in self._devices.values() if d.idle),
                    key=lambda e: e.last_used,
                )
                self._room_closing += 1
                self._discard(victim, "make_room", room=True, global_room=True)
            return "blocked_global"
        dev.slots += 1
        dev.begin_login(key)
        self._slots += 1
        return "slot"

    def _worth_waiting(self, waiter: Waiter[S]) -> bool:
        """Whether to wait for an in-use (or logging-in) session with the waiter's key
        instead of logging in too.

        A login costs about the device's mean login time, so a waiter waits up to
        ``reuse_wait_factor`` times that for such a session to come back (then logs in).
        """
        dev, factor = waiter.device, self._s.reuse_wait_factor
        if not factor or not self._reuse:
            return False
        if not dev.logging_in[waiter.key] and not any(e.key == waiter.key for e in dev.busy):
            return False
        counters = dev.counters
        login_s = counters.login_total / counters.logins if counters.logins else FIRST_LOGIN_GUESS_S
        patience = factor * login_s
        loop = asyncio.get_running_loop()
        if loop.time() >= waiter.since + patience:
            return False
        if waiter.timer is None:
            waiter.timer = loop.call_at(waiter.since + patience, self._dispatch)
        return True

    def _discard(
        self, entry: Entry[S], reason: str, *, room: bool = False, global_room: bool = False
    ) -> None:
        """Take ``entry`` out of service and close it in the background; the slot frees after."""
        dev = entry.device
        if entry.state == "closing":
            return
        if entry.state == "idle":
            dev.idle.remove(entry)
            self._idle_total -= 1
        else:
            dev.busy.discard(entry)
        entry.state = "closing"
        dev.counters.evictions[reason] += 1
        self._spawn(self._close_entry(entry, room=room, global_room=global_room))
        self._check_drained()

    def _spawn(self, coro: Coroutine[None, None, None]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _close_then_free(self, session: S | None, dev: DeviceState[S]) -> None:
        try:
            if session is not None:
                await self._close_quietly(session)
        finally:
            self._free_slot(dev)

    async def _close_entry(self, entry: Entry[S], *, room: bool, global_room: bool) -> None:
        try:
            await self._close_quietly(entry.session)
        finally:
            if room:
                entry.device.room_closing -= 1
            if global_room:
                self._room_closing -= 1
            self._free_slot(entry.device)

    async def _close_quietly(self, session: S) -> None:
        with contextlib.suppress(Exception):
            async with asyncio.timeout(self._s.close_timeout_seconds):
                await session.close()

    def _free_slot(self, dev: DeviceState[S]) -> None:
        dev.slots -= 1
        self._slots -= 1
        self._check_drained()
        self._dispatch()
        for future in self._freed.pop(dev.name, ()):
            if not future.done():
                future.set_result(None)
        if self._on_freed is not None:
            self._on_freed(dev.name)

    def _check_drained(self) -> None:
        if self._closing and not any(d.busy or d.opening for d in self._devices.values()):
            self._drained.set()

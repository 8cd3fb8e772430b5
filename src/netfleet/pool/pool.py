"""The keyed session pool: one per worker process.

Locking model: the pool lives on one event loop and every change to its state
(counts, idle lists, the waiter queue) happens in synchronous code between
awaits, so each such section is atomic without a lock. Awaits (login, probe,
reset, close) only ever happen on a session the caller owns exclusively, with
its slot already counted. There is no global lock around I/O.

Capacity is counted in *slots*: a slot is taken before a login starts and given
back only after the session's close has finished, so the number of sessions a
device sees never exceeds ``DeviceSpec.max_sessions`` (nor the pool's global
maximum), even while sessions are opening or closing.

Waiters are served first-come first-served by ``_dispatch``: a released
session or freed slot goes to the oldest waiter that can use it; a waiter that
times out or is cancelled gives back anything handed to it, which then goes to
the next waiter.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Generic, Literal, TypeVar

from netfleet.core.errors import (
    LoginBackoff,
    NetfleetError,
    PoolClosed,
    PoolFull,
    PoolTimeout,
)
from netfleet.core.models import DeviceSpec
from netfleet.core.settings import PoolSettings
from netfleet.pool.admission import LoginAdmission
from netfleet.pool.keys import SessionKey, device_fingerprint, session_key
from netfleet.pool.session import PooledSession
from netfleet.pool.stats import DeviceCounters, PoolStats, combine, snapshot

S = TypeVar("S", bound=PooledSession)
EntryState = Literal["idle", "busy", "closing"]


@dataclass(eq=False, slots=True)
class _Entry(Generic[S]):
    session: S
    key: SessionKey
    device: _Device[S]
    generation: int
    created: float
    expires: float
    last_used: float
    uses: int = 0
    state: EntryState = "busy"


@dataclass(eq=False, slots=True)
class _Device(Generic[S]):
    name: str
    max_sessions: int
    fingerprint: str
    generation: int = 0
    credential: str = ""
    """Fingerprint of the credential of the newest successful login."""
    slots: int = 0
    """Sessions opening, idle, in use or closing."""
    opening: int = 0
    room_closing: int = 0
    """Idle sessions being closed to make room for a waiter."""
    idle: deque[_Entry[S]] = field(default_factory=deque)
    busy: set[_Entry[S]] = field(default_factory=set)
    counters: DeviceCounters = field(default_factory=DeviceCounters)


@dataclass(eq=False, slots=True)
class _Waiter(Generic[S]):
    key: SessionKey
    device: _Device[S]
    future: asyncio.Future[_Entry[S] | None]
    """Result: an idle entry handed over, or None for a slot to open a new session."""


@dataclass(eq=False, slots=True)
class Lease(Generic[S]):
    """A checked-out session. Return it with ``SessionPool.release`` (or use ``lease()``)."""

    session: S
    key: SessionKey
    reused: bool
    waited_s: float
    login_s: float
    _entry: _Entry[S] = field(repr=False)
    discard: bool = False
    """Set to close the session on release instead of keeping it."""


class SessionPool(Generic[S]):
    """Keyed pool of device sessions with limits, waiters, health checks and stats."""

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
        self._devices: dict[str, _Device[S]] = {}
        self._waiters: deque[_Waiter[S]] = deque()
        self._slots = 0
        self._idle_total = 0
        self._room_closing = 0
        self._closing = False
        self._tasks: set[asyncio.Task[None]] = set()
        self._reaper: asyncio.Task[None] | None = None
        self._drained = asyncio.Event()

    # --- lifecycle -------------------------------------------------------------

    async def __aenter__(self) -> SessionPool[S]:
        self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def start(self) -> None:
        """Start the background reaper (idempotent; ``checkout`` also starts it)."""
        if self._reaper is None and not self._closing:
            self._reaper = asyncio.get_running_loop().create_task(self._reap_forever())

    async def close(self, timeout: float = 30.0) -> None:
        """Refuse new checkouts, fail waiters, close idle sessions, wait up to ``timeout``
        for sessions in use to come back, then force-close the rest."""
        self._closing = True
        if self._reaper is not None:
            self._reaper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reaper
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.future.done():
                waiter.future.set_exception(PoolClosed("the session pool is closing"))
        for dev in self._devices.values():
            while dev.idle:
                self._discard(dev.idle[0], "pool_closed")
        if any(dev.busy or dev.opening for dev in self._devices.values()):
            self._drained.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._drained.wait(), timeout)
        for dev in self._devices.values():
            for entry in list(dev.busy):
                self._discard(entry, "pool_closed")
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    # --- checkout / release ------------------------------------------------------

    @contextlib.asynccontextmanager
    async def lease(
        self, spec: DeviceSpec, *, timeout: float | None = None, options: str = ""
    ) -> AsyncIterator[Lease[S]]:
        """Check out a session for ``spec`` and return it to the pool afterwards."""
        lease = await self.checkout(spec, timeout=timeout, options=options)
        try:
            yield lease
        except BaseException as exc:
            await self.release(lease, error=exc)
            raise
        await self.release(lease)

    @contextlib.asynccontextmanager
    async def session(
        self, spec: DeviceSpec, *, timeout: float | None = None, options: str = ""
    ) -> AsyncIterator[S]:
        """Like ``lease`` but yields the session itself."""
        async with self.lease(spec, timeout=timeout, options=options) as lease:
            yield lease.session

    async def checkout(
        self, spec: DeviceSpec, *, timeout: float | None = None, options: str = ""
    ) -> Lease[S]:
        """A healthy session for ``spec``: an idle one with the same key, or a new login.

        Raises ``PoolTimeout`` (no slot before the deadline), ``PoolFull`` (too many
        waiters), ``PoolClosed``, ``LoginBackoff``, or the login's ``ConnectError``.
        """
        if self._closing:
            raise PoolClosed("the session pool is closing")
        self.start()
        loop = asyncio.get_running_loop()
        started = loop.time()
        deadline = started + (timeout if timeout is not None else self._s.checkout_timeout_seconds)
        dev = self._device_for(spec, options)
        key = session_key(spec, options)
        label = spec.credentials[0].name or spec.credentials[0].username if spec.credentials else ""
        dev.counters.checkouts += 1
        if not any(e.key == key for e in dev.idle):
            self._admission.check(dev.name, key.credential, label)
        waiter: _Waiter[S] = _Waiter(key, dev, loop.create_future())
        self._waiters.append(waiter)
        self._dispatch()
        if not waiter.future.done() and len(self._waiters) > self._s.max_waiters:
            self._abandon(waiter)
            raise PoolFull(
                f"{spec.name}: {len(self._waiters)} jobs already wait for sessions "
                f"(pool max_waiters={self._s.max_waiters})"
            )
        try:
            async with asyncio.timeout_at(deadline):
                grant = await waiter.future
        except TimeoutError:
            self._abandon(waiter)
            raise PoolTimeout(
                f"{spec.name}: no session available within {deadline - started:.1f} s "
                f"({dev.slots}/{dev.max_sessions} device sessions, "
                f"{self._slots}/{self._max_total} pool sessions in use)"
            ) from None
        except BaseException:
            self._abandon(waiter)
            raise
        waited = loop.time() - started
        try:
            entry = await self._ready(grant, spec, key, dev, label)
        except BaseException:
            if grant is not None and grant.state == "busy":
                self._discard(grant, "dead")
            raise
        reused = grant is not None and entry is grant
        if reused:
            dev.counters.reuses += 1
        entry.uses += 1
        login_s = 0.0 if reused else loop.time() - started - waited
        return Lease(entry.session, key, reused, waited, login_s, entry)

    async def release(self, lease: Lease[S], *, error: BaseException | None = None) -> None:
        """Return a session: keep it idle (after resetting it) or close it."""
        entry = lease._entry
        if entry.state != "busy":
            return  # already force-closed by ``close``
        reason = self._unusable(entry, error, lease.discard)
        if reason is None:
            try:
                await asyncio.wait_for(entry.session.reset(), self._s.reset_timeout_seconds)
            except (NetfleetError, TimeoutError):
                reason = "reset_failed"
            except BaseException:
                self._discard(entry, "dirty")
                raise
            if not self._in_use(entry):
                return  # force-closed by ``close`` meanwhile
            reason = reason or self._unusable(entry, None, False)
        if reason is not None:
            self._discard(entry, reason)
            return
        dev = entry.device
        dev.busy.discard(entry)
        entry.state = "idle"
        entry.last_used = time.monotonic()
        dev.idle.append(entry)
        self._idle_total += 1
        self._check_drained()
        self._dispatch()

    # --- maintenance and introspection ------------------------------------------

    def retire(self, device: str) -> int:
        """Retire every session of ``device`` (idle now, in-use ones when released).

        Also clears its authentication backoff. Returns how many sessions were affected.
        """
        dev = self._devices.get(device)
        self._admission.clear_backoff(device)
        if dev is None:
            return 0
        dev.generation += 1
        affected = len(dev.idle) + len(dev.busy)
        while dev.idle:
            self._discard(dev.idle[0], "retired")
        return affected

    def warm_devices(self) -> list[str]:
        """Names of devices with at least one idle session (for queue affinity)."""
        return [name for name, dev in self._devices.items() if dev.idle]

    def stats(self) -> PoolStats:
        """A snapshot of sessions and counters, per device and in total."""
        waiting: dict[str, int] = {}
        for w in self._waiters:
            waiting[w.device.name] = waiting.get(w.device.name, 0) + 1
        per = {
            name: snapshot(
                name,
                dev.counters,
                idle=len(dev.idle),
                in_use=len(dev.busy),
                opening=dev.opening,
                waiting=waiting.get(name, 0),
                sessions_open=len(dev.idle) + len(dev.busy),
            )
            for name, dev in self._devices.items()
        }
        return PoolStats(
            total=combine("*", list(per.values())),
            devices=per,
            max_sessions=self._max_total,
            logins_in_progress=self._admission.in_progress,
            devices_in_backoff=self._admission.devices_in_backoff(),
        )

    # --- internals ---------------------------------------------------------------

    def _device_for(self, spec: DeviceSpec, options: str) -> _Device[S]:
        fp = device_fingerprint(spec, options)
        dev = self._devices.get(spec.name)
        if dev is None:
            dev = self._devices[spec.name] = _Device(spec.name, spec.max_sessions, fp)
        elif dev.fingerprint != fp:
            dev.fingerprint = fp
            self.retire(spec.name)
        dev.max_sessions = spec.max_sessions
        return dev

    async def _ready(
        self,
        grant: _Entry[S] | None,
        spec: DeviceSpec,
        key: SessionKey,
        dev: _Device[S],
        label: str,
    ) -> _Entry[S]:
        """Turn a grant into a usable entry: probe a reused one, or log in on a slot."""
        if grant is not None:
            reason = self._stale(grant, time.monotonic())
            if reason is None and self._needs_probe(grant):
                dev.counters.probes += 1
                if not await self._probe(grant.session):
                    dev.counters.probe_failures += 1
                    reason = "dead"
            if reason is None:
                return grant
            # Replace it transparently, keeping its slot.
            dev.counters.evictions[reason] += 1
            dev.busy.discard(grant)
            grant.state = "closing"
            dev.opening += 1
            try:
                await self._close_quietly(grant.session)
            except BaseException:
                dev.opening -= 1
                self._free_slot(dev)
                raise
        return await self._login(spec, key, dev, label)

    async def _login(
        self, spec: DeviceSpec, key: SessionKey, dev: _Device[S], label: str
    ) -> _Entry[S]:
        """Open a new session on a slot already counted in ``dev.opening``/``dev.slots``."""
        started = time.monotonic()
        session: S | None = None
        try:
            session = self._factory(spec)
            await self._admission.login(dev.name, key.credential, label, session.open)
        except BaseException as exc:
            if not isinstance(exc, LoginBackoff | asyncio.CancelledError):
                dev.counters.login_failures += 1
            dev.opening -= 1
            self._spawn(self._close_then_free(session, dev))
            raise
        now = time.monotonic()
        dev.opening -= 1
        dev.counters.observe_login(now - started)
        jitter = random.uniform(0.0, self._s.lifetime_jitter_seconds)
        entry = _Entry(
            session,
            key,
            dev,
            dev.generation,
            created=now,
            expires=now + max(0.0, self._s.max_lifetime_seconds - jitter),
            last_used=now,
        )
        dev.busy.add(entry)
        if dev.credential != key.credential:
            old, dev.credential = dev.credential, key.credential
            if old:  # credentials changed: sessions with the old ones retire
                for idle in [e for e in dev.idle if e.key.credential != key.credential]:
                    self._discard(idle, "credentials_changed")
        if self._closing:
            self._discard(entry, "pool_closed")
            raise PoolClosed("the session pool is closing")
        return entry

    @staticmethod
    def _in_use(entry: _Entry[S]) -> bool:
        return entry.state == "busy"

    def _needs_probe(self, entry: _Entry[S]) -> bool:
        return time.monotonic() - entry.last_used >= self._s.probe_after_idle_seconds

    async def _probe(self, session: S) -> bool:
        try:
            return await asyncio.wait_for(session.is_alive(), self._s.probe_timeout_seconds)
        except (NetfleetError, TimeoutError):
            return False

    def _stale(self, entry: _Entry[S], now: float) -> str | None:
        """Why an idle (or just returned) session must not be used again, if it must not."""
        dev = entry.device
        if entry.session.closed:
            return "closed"
        if entry.generation != dev.generation:
            return "retired"
        if dev.credential and entry.key.credential != dev.credential:
            return "credentials_changed"
        if self._s.max_uses and entry.uses >= self._s.max_uses:
            return "max_uses"
        if now >= entry.expires:
            return "lifetime"
        return None

    def _unusable(self, entry: _Entry[S], error: BaseException | None, discard: bool) -> str | None:
        if self._closing:
            return "pool_closed"
        if not self._reuse:
            return "reuse_disabled"
        if discard:
            return "discarded"
        if entry.session.closed:
            return "closed"
        if entry.session.dirty or (error is not None and not isinstance(error, NetfleetError)):
            return "dirty"
        return self._stale(entry, time.monotonic())

    def _abandon(self, waiter: _Waiter[S]) -> None:
        """A waiter gave up (timeout, cancel): drop it and give back what it was handed."""
        with contextlib.suppress(ValueError):
            self._waiters.remove(waiter)
        fut = waiter.future
        if not fut.done():
            fut.cancel()
            return
        if fut.cancelled() or fut.exception() is not None:
            return
        entry = fut.result()
        dev = waiter.device
        if entry is None:
            dev.opening -= 1
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
        global_blocked = False
        for waiter in list(self._waiters):
            if waiter.future.done():  # cancelled; its task has not run ``_abandon`` yet
                self._waiters.remove(waiter)
                continue
            dev = waiter.device
            if dev.name in blocked:
                continue  # an older waiter for this device comes first
            grant = self._try_grant(waiter, allow_new=not global_blocked)
            if grant == "blocked_device":
                blocked.add(dev.name)
                continue
            if grant == "blocked_global":
                global_blocked = True
                blocked.add(dev.name)
                if self._idle_total == 0:
                    break
                continue
            self._waiters.remove(waiter)
            waiter.future.set_result(grant if isinstance(grant, _Entry) else None)

    def _try_grant(
        self, waiter: _Waiter[S], *, allow_new: bool
    ) -> _Entry[S] | Literal["slot", "blocked_device", "blocked_global"]:
        dev, key = waiter.device, waiter.key
        for entry in reversed(dev.idle):  # newest first: older ones may then time out
            if entry.key == key:
                dev.idle.remove(entry)
                self._idle_total -= 1
                entry.state = "busy"
                dev.busy.add(entry)
                return entry
        if dev.slots >= dev.max_sessions:
            if dev.idle and dev.room_closing == 0:
                dev.room_closing += 1
                self._discard(dev.idle[0], "make_room", room=True)
            return "blocked_device"
        if not allow_new or self._slots >= self._max_total:
            if self._room_closing == 0 and self._idle_total:
                victim = min(
                    (d.idle[0] for d in self._devices.values() if d.idle),
                    key=lambda e: e.last_used,
                )
                self._room_closing += 1
                self._discard(victim, "make_room", room=True, global_room=True)
            return "blocked_global"
        dev.slots += 1
        dev.opening += 1
        self._slots += 1
        return "slot"

    def _discard(
        self, entry: _Entry[S], reason: str, *, room: bool = False, global_room: bool = False
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

    async def _close_then_free(self, session: S | None, dev: _Device[S]) -> None:
        try:
            if session is not None:
                await self._close_quietly(session)
        finally:
            self._free_slot(dev)

    async def _close_entry(self, entry: _Entry[S], *, room: bool, global_room: bool) -> None:
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
            await asyncio.wait_for(session.close(), self._s.close_timeout_seconds)

    def _free_slot(self, dev: _Device[S]) -> None:
        dev.slots -= 1
        self._slots -= 1
        self._check_drained()
        self._dispatch()

    def _check_drained(self) -> None:
        if self._closing and not any(d.busy or d.opening for d in self._devices.values()):
            self._drained.set()

    async def _reap_forever(self) -> None:
        while True:
            await asyncio.sleep(self._reaper_interval)
            self.reap()

    def reap(self) -> None:
        """Close idle sessions past their idle timeout, lifetime or generation."""
        now = time.monotonic()
        for dev in self._devices.values():
            for entry in list(dev.idle):
                reason = self._stale(entry, now)
                if reason is None and now - entry.last_used >= self._idle_timeout:
                    reason = "idle_timeout"
                if reason is not None:
                    self._discard(entry, reason)
        self._admission.prune()

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
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any, TypeVar

from netfleet.core.errors import (
    LoginBackoff,
    NetfleetError,
    PoolClosed,
    PoolFull,
    PoolTimeout,
)
from netfleet.core.models import DeviceSpec
from netfleet.pool.entries import DeviceState, Entry, Lease, Waiter, release_reason, stale_reason
from netfleet.pool.keys import SessionKey, device_fingerprint, session_key
from netfleet.pool.session import PooledSession
from netfleet.pool.state import PoolState
from netfleet.pool.stats import TOTALS, PoolStats, combine, snapshot

S = TypeVar("S", bound=PooledSession)


class SessionPool(PoolState[S]):
    """Keyed pool of device sessions with limits, waiters, health checks and stats.

    Construct with ``(factory, settings, *, max_total, idle_timeout_s, reuse,
    reaper_interval_s)``; see ``PoolState``.
    """

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
            await asyncio.wait([self._reaper])  # a cancel of close() still propagates
            if not self._reaper.cancelled():
                self._reaper.result()  # its own failure is not lost
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
                async with asyncio.timeout(timeout):
                    await self._drained.wait()
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
        dev = self._device_for(spec)
        key = session_key(spec, options)
        label = spec.credentials[0].name or spec.credentials[0].username if spec.credentials else ""
        dev.counters.checkouts += 1
        if not any(e.key == key for e in dev.idle):
            self._admission.check(dev.name, key.credential, label)
        waiter: Waiter[S] = Waiter(key, dev, loop.create_future(), started)
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
                self._discard(grant, "dirty")  # interrupted while probing it
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
                async with asyncio.timeout(self._s.reset_timeout_seconds):
                    await entry.session.reset()
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

    def totals(self) -> dict[str, Any]:
        """The pool's session counts and counters summed over devices (``evictions``: by
        reason): what a worker publishes with each heartbeat, without the per-device
        snapshots of ``stats()``."""
        out: dict[str, Any] = dict.fromkeys(TOTALS, 0)
        evictions: Counter[str] = Counter()
        for dev in self._devices.values():
            c = dev.counters
            idle, busy = len(dev.idle), len(dev.busy)
            out["idle"] += idle
            out["in_use"] += busy
            out["sessions_open"] += idle + busy
            out["checkouts"] += c.checkouts
            out["logins"] += c.logins
            out["login_failures"] += c.login_failures
            out["reuses"] += c.reuses
            if c.evictions:
                evictions.update(c.evictions)
        out["evictions"] = dict(evictions)
        return out

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

    def _device_for(self, spec: DeviceSpec) -> DeviceState[S]:
        fp = device_fingerprint(spec)
        dev = self._devices.get(spec.name)
        if dev is None:
            dev = self._devices[spec.name] = DeviceState(spec.name, spec.max_sessions, fp)
        elif dev.fingerprint != fp:
            dev.fingerprint = fp
            self.retire(spec.name)
        if spec.max_sessions < dev.max_sessions:  # lowered: close idle sessions over it
            for entry in list(dev.idle)[: max(0, dev.slots - spec.max_sessions)]:
                self._discard(entry, "max_sessions_lowered")
        dev.max_sessions = spec.max_sessions
        return dev

    async def _ready(
        self,
        grant: Entry[S] | None,
        spec: DeviceSpec,
        key: SessionKey,
        dev: DeviceState[S],
        label: str,
    ) -> Entry[S]:
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
            dev.begin_login(key)
            try:
                await self._close_quietly(grant.session)
            except BaseException:
                dev.end_login(key)
                self._free_slot(dev)
                raise
        return await self._login(spec, key, dev, label)

    async def _login(
        self, spec: DeviceSpec, key: SessionKey, dev: DeviceState[S], label: str
    ) -> Entry[S]:
        """Open a new session on a slot already counted in ``dev.slots`` (and ``logging_in``)."""
        started = time.monotonic()
        session: S | None = None
        try:
            session = self._factory(spec)
            await self._admission.login(dev.name, key.credential, label, session.open)
        except BaseException as exc:
            if not isinstance(exc, LoginBackoff | asyncio.CancelledError):
                dev.counters.login_failures += 1
            dev.end_login(key)
            self._spawn(self._close_then_free(session, dev))
            raise
        now = time.monotonic()
        dev.end_login(key)
        dev.counters.observe_login(now - started)
        jitter = random.uniform(0.0, self._s.lifetime_jitter_seconds)
        entry = Entry(
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
    def _in_use(entry: Entry[S]) -> bool:
        return entry.state == "busy"

    def _needs_probe(self, entry: Entry[S]) -> bool:
        return time.monotonic() - entry.last_used >= self._s.probe_after_idle_seconds

    async def _probe(self, session: S) -> bool:
        try:
            async with asyncio.timeout(self._s.probe_timeout_seconds):
                return await session.is_alive()
        except (NetfleetError, TimeoutError):
            return False

    def _stale(self, entry: Entry[S], now: float) -> str | None:
        return stale_reason(entry, now, self._s.max_uses)

    def _unusable(self, entry: Entry[S], error: BaseException | None, discard: bool) -> str | None:
        if self._closing:
            return "pool_closed"
        if not self._reuse:
            return "reuse_disabled"
        return release_reason(entry, error, discard) or self._stale(entry, time.monotonic())

    async def _reap_forever(self) -> None:
        while True:
            await asyncio.sleep(self._reaper_interval)
            self.reap()

    def discard_closed(self) -> int:
        """Let go of idle sessions whose connection is gone (the device closed it); returns
        how many. Cheap (a flag per idle session), so callers may run it every heartbeat."""
        gone = [e for dev in self._devices.values() for e in dev.idle if e.session.closed]
        for entry in gone:
            self._discard(entry, "closed")
        return len(gone)

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

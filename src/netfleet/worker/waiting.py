"""Small waiting helpers shared by the worker's loops."""

from __future__ import annotations

import asyncio


async def wait_any(*events: asyncio.Event, timeout: float | None) -> bool:
    """Wait until one of ``events`` is set or ``timeout`` passes; True if one is set."""
    if any(e.is_set() for e in events):
        return True
    waiters = [asyncio.ensure_future(e.wait()) for e in events]
    try:
        done, _ = await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
        # asyncio.wait, not ``await waiter`` under suppress(CancelledError): a cancel of
        # this task while the waiters end would be swallowed, and a loop around it (the
        # lease keeper's) would run on, cancelled, forever.
        await asyncio.wait(waiters)
    return bool(done)


async def sleep_unless(stop: asyncio.Event, seconds: float) -> bool:
    """Sleep ``seconds`` unless ``stop`` is set first; True if stopped."""
    return await wait_any(stop, timeout=seconds)


class Backoff:
    """Exponential delays for retrying a failing store call: 0.1 s doubling to ``cap``."""

    def __init__(self, first: float = 0.1, cap: float = 5.0) -> None:
        self._first = first
        self._cap = cap
        self.delay = first
        self.failures = 0

    def failed(self) -> float:
        """Record a failure; return how long to wait before the next try."""
        self.failures += 1
        current = self.delay
        self.delay = min(self.delay * 2, self._cap)
        return current

    def reset(self) -> None:
        self.failures = 0
        self.delay = self._first

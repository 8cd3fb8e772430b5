"""Login admission: how fast and how many logins the pool starts, and auth backoff.

* at most ``max_concurrent`` logins at once (all devices);
* per device, at most ``rate`` login starts per second (a token bucket that
  allows a burst of ``max(1, rate)``), plus optional random jitter;
* after an authentication failure, logins to that device *with that credential*
  stop for ``backoff_s`` seconds (``LoginBackoff``), so a wrong password cannot
  lock the account. Authentication failures are never retried here;
* the first login with a credential not yet proven on a device runs alone:
  concurrent jobs with the same (possibly wrong) credential wait for its outcome
  instead of all trying at once.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from netfleet.core.errors import AuthenticationFailed, LoginBackoff

T = TypeVar("T")


@dataclass(slots=True)
class _Bucket:
    tokens: float
    updated: float


class LoginAdmission:
    """Admission control for logins; one per pool (event-loop thread only)."""

    def __init__(
        self,
        *,
        max_concurrent: int,
        rate: float,
        jitter_ms: float = 0.0,
        backoff_s: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._slots = asyncio.Semaphore(max_concurrent)
        self._rate = rate
        self._burst = max(1.0, rate)
        self._jitter_s = jitter_ms / 1000.0
        self._backoff_s = backoff_s
        self._clock = clock
        self._buckets: dict[str, _Bucket] = {}
        self._backoff: dict[tuple[str, str], float] = {}
        self._proven: set[tuple[str, str]] = set()
        self._first: dict[tuple[str, str], asyncio.Future[bool]] = {}
        self.in_progress = 0

    def backoff_remaining(self, device: str, credential: str) -> float:
        """Seconds left in the backoff of (device, credential); 0 when none."""
        until = self._backoff.get((device, credential))
        if until is None:
            return 0.0
        left = until - self._clock()
        if left <= 0:
            del self._backoff[(device, credential)]
            return 0.0
        return left

    def check(self, device: str, credential: str, label: str) -> None:
        """Raise ``LoginBackoff`` if logins for (device, credential) are paused."""
        left = self.backoff_remaining(device, credential)
        if left > 0:
            raise LoginBackoff(
                f"{device}: logins with credential '{label}' are paused for {left:.0f} s "
                "after an authentication failure (not retried automatically)"
            )

    def devices_in_backoff(self) -> int:
        now = self._clock()
        return len({dev for (dev, _), until in self._backoff.items() if until > now})

    def clear_backoff(self, device: str) -> None:
        """Forget auth failures of ``device`` (e.g. after its credentials were changed)."""
        for key in [k for k in self._backoff if k[0] == device]:
            del self._backoff[key]

    def prune(self) -> None:
        """Drop expired backoffs and idle rate buckets."""
        now = self._clock()
        for key in [k for k, until in self._backoff.items() if until <= now]:
            del self._backoff[key]
        for dev in [d for d, b in self._buckets.items() if b.tokens >= self._burst]:
            del self._buckets[dev]

    def reserve(self, device: str) -> float:
        """Take one token from the device's bucket; the seconds to wait before logging in."""
        now = self._clock()
        bucket = self._buckets.get(device)
        if bucket is None:
            bucket = self._buckets[device] = _Bucket(self._burst, now)
        bucket.tokens = min(self._burst, bucket.tokens + (now - bucket.updated) * self._rate)
        bucket.updated = now
        bucket.tokens -= 1.0  # reserve now; a negative balance is a queue of later logins
        return max(0.0, -bucket.tokens / self._rate)

    async def login(
        self, device: str, credential: str, label: str, do_login: Callable[[], Awaitable[T]]
    ) -> T:
        """Run ``do_login`` under admission control; record auth failures as a backoff."""
        key = (device, credential)
        self.check(device, credential, label)
        while key not in self._proven and key in self._first:
            await asyncio.shield(self._first[key])
            self.check(device, credential, label)
        first: asyncio.Future[bool] | None = None
        if key not in self._proven:
            first = self._first[key] = asyncio.get_running_loop().create_future()
        try:
            delay = self.reserve(device)
            if delay:
                await asyncio.sleep(delay)
            if self._jitter_s:
                await asyncio.sleep(random.uniform(0.0, self._jitter_s))
            async with self._slots:
                self.check(device, credential, label)
                self.in_progress += 1
                try:
                    result = await do_login()
                finally:
                    self.in_progress -= 1
        except AuthenticationFailed:
            if self._backoff_s > 0:
                self._backoff[key] = self._clock() + self._backoff_s
            self._proven.discard(key)
            raise
        else:
            self._proven.add(key)
            return result
        finally:
            if first is not None:
                self._first.pop(key, None)
                if not first.done():
                    first.set_result(True)

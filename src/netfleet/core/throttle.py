"""Throttling of repeated authentication failures per client address.

``FailureThrottle`` counts failures per key (a client address) in a fixed window.
After ``limit`` failures in ``window_s`` seconds the key is blocked until the window
ends: callers answer 429 with ``Retry-After`` instead of checking the credential.
A credential that verified recently (``remember_good``) is still checked while
its address is blocked, so a user sharing an address with a guesser keeps working.
Memory is bounded: at most ``max_keys`` addresses and ``max_good`` credentials are
remembered (the oldest are forgotten first).
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable


class FailureThrottle:
    """Failure counts per key in fixed windows, bounded in size."""

    def __init__(
        self,
        *,
        limit: int,
        window_s: float,
        max_keys: int = 10_000,
        max_good: int = 10_000,
        good_ttl_s: float = 3600.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit = limit
        self.window_s = window_s
        self.max_keys = max_keys
        self.max_good = max_good
        self.good_ttl_s = good_ttl_s
        self._clock = clock
        self._failures: OrderedDict[str, tuple[float, int]] = OrderedDict()
        """key -> (window start, failures in it)."""
        self._good: OrderedDict[str, float] = OrderedDict()
        """credential digest -> when it last verified."""

    def __len__(self) -> int:
        return len(self._failures)

    def retry_after(self, key: str) -> int:
        """Seconds until ``key`` may try again (0: not blocked)."""
        if self.limit <= 0:
            return 0
        entry = self._failures.get(key)
        if entry is None:
            return 0
        start, count = entry
        left = start + self.window_s - self._clock()
        if left <= 0:
            del self._failures[key]
            return 0
        return max(1, math.ceil(left)) if count >= self.limit else 0

    def failed(self, key: str) -> int:
        """Record a failure of ``key``; the seconds it is now blocked for (0: not yet)."""
        if self.limit <= 0:
            return 0
        now = self._clock()
        start, count = self._failures.pop(key, (now, 0))
        if now - start >= self.window_s:
            start, count = now, 0
        self._failures[key] = (start, count + 1)
        while len(self._failures) > self.max_keys:
            self._failures.popitem(last=False)
        return self.retry_after(key)

    def remember_good(self, digest: str) -> None:
        """``digest`` (of a credential) verified just now."""
        self._good.pop(digest, None)
        self._good[digest] = self._clock()
        while len(self._good) > self.max_good:
            self._good.popitem(last=False)

    def known_good(self, digest: str) -> bool:
        """Did ``digest`` verify within ``good_ttl_s``?"""
        at = self._good.get(digest)
        if at is None:
            return False
        if self._clock() - at > self.good_ttl_s:
            del self._good[digest]
            return False
        return True

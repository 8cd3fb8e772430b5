"""The queue's own store work in this process (claims, completions, task events), so
background loops that share the process and its store thread can yield to it.

On SQLite every transaction of a process runs on one store thread, and all of them
share the interpreter with the event loop: a delivery loop sending webhooks while a
job's completions are written slows those completions down. ``Database.run(...,
queue=True)`` counts such work here; ``quiet`` lets a loop wait until it paused.
"""

from __future__ import annotations

import asyncio
import time


class QueueActivity:
    """In-flight and most recent queue transactions of this process (event loop side)."""

    def __init__(self) -> None:
        self.active = 0
        self.last_end = float("-inf")
        self.yielded_s = 0.0
        """Seconds loops spent waiting in ``quiet`` (a metric for benchmarks and logs)."""

    def begin(self) -> None:
        self.active += 1

    def end(self) -> None:
        self.active -= 1
        self.last_end = time.monotonic()

    def busy(self, settle_s: float) -> bool:
        """Queue work is running, or ended less than ``settle_s`` ago."""
        return self.active > 0 or time.monotonic() - self.last_end < settle_s

    async def quiet(self, settle_s: float, max_wait_s: float) -> float:
        """Wait until no queue work ran for ``settle_s``, at most ``max_wait_s`` (so the
        caller is slowed, never starved); the seconds waited."""
        started = time.monotonic()
        deadline = started + max_wait_s
        while self.busy(settle_s):
            now = time.monotonic()
            if now >= deadline:
                break
            wake = settle_s if self.active else self.last_end + settle_s - now
            await asyncio.sleep(min(max(wake, 0.001), deadline - now))
        waited = time.monotonic() - started
        self.yielded_s += waited
        return waited

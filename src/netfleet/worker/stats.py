"""Counters one worker keeps, and the snapshot it publishes with its heartbeat."""

from __future__ import annotations

import contextlib
import os
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import psutil


@dataclass(slots=True)
class WorkerStats:
    """Monotonic counters of one worker process since it started."""

    started_at: float = field(default_factory=time.time)
    claims: int = 0
    """Claim round trips to the store."""
    claimed: int = 0
    """Tasks claimed."""
    succeeded: int = 0
    failed: int = 0
    cancelled: int = 0
    retries_scheduled: int = 0
    lease_lost: int = 0
    """Results dropped because another worker (or the reaper) owned the task by then."""
    fenced: int = 0
    """Attempts the lease fence stopped (no heartbeat renewed their lease in time)."""
    fenced_late: int = 0
    """Fences (of an attempt, or of the idle sessions' holds) that ran when the store
    could already have expired what they protect: the process did not run from the fence
    point until past the margin (paused, starved of CPU). Its sessions may then have
    outlived their slots: the documented limit of a worker paused past its lease."""
    fence_late_max_s: float = 0.0
    """The latest of those fences, in seconds past the fence point."""
    loop_lag_max_s: float = 0.0
    """The longest the fence's timer ran late: how long the event loop (or the whole
    process) did not run; above the lease margin the fences cannot be on time."""
    released: int = 0
    """Tasks handed back at shutdown."""
    deadline_exceeded: int = 0
    reaped: int = 0
    """Other workers' tasks this worker's reaper requeued or failed."""
    store_errors: int = 0
    events_dropped: int = 0

    def snapshot(self, *, running: int, pool: dict[str, Any] | None = None) -> dict[str, Any]:
        """A JSON-friendly view: counters, running tasks, memory and the pool's stats."""
        data: dict[str, Any] = asdict(self)
        for name in ("fence_late_max_s", "loop_lag_max_s"):  # kept exact, shown in ms
            data[name] = round(data[name], 3)
        data["running"] = running
        data["uptime_s"] = round(time.time() - self.started_at, 3)
        data["rss_kb"] = rss_kb()
        data["pid"] = os.getpid()
        if pool is not None:
            data["pool"] = pool
        return data


_last_rss_kb = 0


def rss_kb() -> int:
    """Resident memory of this process, in KiB: now, or the last value read if ``/proc``
    cannot be read (out of descriptors: the heartbeat that publishes it must go on)."""
    global _last_rss_kb
    with contextlib.suppress(OSError, psutil.Error):
        _last_rss_kb = int(psutil.Process(os.getpid()).memory_info().rss // 1024)
    return _last_rss_kb

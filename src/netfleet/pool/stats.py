"""Pool statistics: live counters per device, and immutable snapshots for export."""

from __future__ import annotations

import bisect
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

LOGIN_BUCKETS: tuple[float, ...] = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
"""Upper bounds (seconds) of the login time histogram; a final +Inf bucket is implied."""

EVICTION_REASONS: tuple[str, ...] = (
    "idle_timeout",
    "lifetime",
    "max_uses",
    "dead",
    "closed",
    "dirty",
    "reset_failed",
    "retired",
    "credentials_changed",
    "make_room",
    "reuse_disabled",
    "discarded",
    "pool_closed",
)
"""Why a session left the pool (``evictions`` keys)."""


TOTALS: tuple[str, ...] = (
    "sessions_open",
    "idle",
    "in_use",
    "checkouts",
    "logins",
    "login_failures",
    "reuses",
)
"""Counts summed by ``SessionPool.totals()`` (which adds ``evictions`` by reason)."""


@dataclass(frozen=True, slots=True)
class Histogram:
    """``counts[i]``: observations in (``buckets[i-1]``, ``buckets[i]``]; the last is +Inf."""

    buckets: tuple[float, ...]
    counts: tuple[int, ...]
    total: float
    count: int

    @property
    def mean(self) -> float:
        return self.total / self.count if self.count else 0.0


@dataclass(slots=True)
class DeviceCounters:
    """Mutable counters of one device, updated by the pool (event-loop thread only)."""

    checkouts: int = 0
    logins: int = 0
    login_failures: int = 0
    reuses: int = 0
    probes: int = 0
    probe_failures: int = 0
    evictions: Counter[str] = field(default_factory=Counter)
    login_counts: list[int] = field(default_factory=lambda: [0] * (len(LOGIN_BUCKETS) + 1))
    login_total: float = 0.0

    def observe_login(self, seconds: float) -> None:
        self.logins += 1
        self.login_total += seconds
        self.login_counts[bisect.bisect_left(LOGIN_BUCKETS, seconds)] += 1


@dataclass(frozen=True, slots=True)
class DeviceStats:
    """A snapshot of one device's sessions and counters (or the pool total)."""

    device: str
    sessions_open: int
    idle: int
    in_use: int
    opening: int
    waiting: int
    checkouts: int
    logins: int
    login_failures: int
    reuses: int
    probes: int
    probe_failures: int
    evictions: dict[str, int]
    login_seconds: Histogram

    @property
    def reuse_rate(self) -> float:
        """Share of checkouts served by an existing session."""
        return self.reuses / self.checkouts if self.checkouts else 0.0

    def summary(self) -> dict[str, Any]:
        """The figures as exported (JSON-ready; rates and means rounded), without the name:
        what the API shows per device and workers publish with their heartbeat."""
        return {
            "sessions_open": self.sessions_open,
            "idle": self.idle,
            "in_use": self.in_use,
            "opening": self.opening,
            "waiting": self.waiting,
            "checkouts": self.checkouts,
            "logins": self.logins,
            "login_failures": self.login_failures,
            "reuses": self.reuses,
            "reuse_rate": round(self.reuse_rate, 4),
            "evictions": dict(self.evictions),
            "login_seconds_mean": round(self.login_seconds.mean, 6),
        }


@dataclass(frozen=True, slots=True)
class PoolStats:
    """A snapshot of the whole pool: totals plus one entry per device."""

    total: DeviceStats
    devices: dict[str, DeviceStats]
    max_sessions: int
    logins_in_progress: int
    devices_in_backoff: int

    @property
    def reuse_rate(self) -> float:
        return self.total.reuse_rate


def snapshot(
    device: str,
    counters: DeviceCounters,
    *,
    idle: int,
    in_use: int,
    opening: int,
    waiting: int,
    sessions_open: int,
) -> DeviceStats:
    """Freeze ``counters`` plus the current session counts."""
    return DeviceStats(
        device=device,
        sessions_open=sessions_open,
        idle=idle,
        in_use=in_use,
        opening=opening,
        waiting=waiting,
        checkouts=counters.checkouts,
        logins=counters.logins,
        login_failures=counters.login_failures,
        reuses=counters.reuses,
        probes=counters.probes,
        probe_failures=counters.probe_failures,
        evictions=dict(counters.evictions),
        login_seconds=Histogram(
            LOGIN_BUCKETS, tuple(counters.login_counts), counters.login_total, counters.logins
        ),
    )


def combine(name: str, parts: list[DeviceStats]) -> DeviceStats:
    """Sum several device snapshots into one (the pool total)."""
    evictions: Counter[str] = Counter()
    counts = [0] * (len(LOGIN_BUCKETS) + 1)
    total = 0.0
    for p in parts:
        evictions.update(p.evictions)
        counts = [a + b for a, b in zip(counts, p.login_seconds.counts, strict=True)]
        total += p.login_seconds.total

    def s(attr: str) -> int:
        return sum(int(getattr(p, attr)) for p in parts)

    return DeviceStats(
        device=name,
        sessions_open=s("sessions_open"),
        idle=s("idle"),
        in_use=s("in_use"),
        opening=s("opening"),
        waiting=s("waiting"),
        checkouts=s("checkouts"),
        logins=s("logins"),
        login_failures=s("login_failures"),
        reuses=s("reuses"),
        probes=s("probes"),
        probe_failures=s("probe_failures"),
        evictions=dict(evictions),
        login_seconds=Histogram(LOGIN_BUCKETS, tuple(counts), total, sum(counts)),
    )

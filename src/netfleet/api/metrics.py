"""``/metrics``: Prometheus text from a custom collector over a cached snapshot.

The snapshot (queue aggregates from the database, the workers table, the
embedded pool's statistics) is refreshed at most every ``max_age_s`` seconds,
so frequent scrapes cost the database little. Each app has its own
``CollectorRegistry``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from prometheus_client import CollectorRegistry
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from netfleet.api.context import ServiceContext
from netfleet.pool import PoolStats
from netfleet.store.records import WorkerRecord
from netfleet.store.sql.metrics import QueueSnapshot


@dataclass(frozen=True, slots=True)
class Snapshot:
    queue: QueueSnapshot
    workers: list[WorkerRecord]
    pool: PoolStats | None
    at: float
    config_changes: int = 0


class MetricsCache:
    """The latest snapshot; ``refresh()`` renews it when older than ``max_age_s``."""

    def __init__(self, ctx: ServiceContext, max_age_s: float = 2.0) -> None:
        self.ctx = ctx
        self.max_age_s = max_age_s
        self.latest: Snapshot | None = None
        self._lock = asyncio.Lock()

    async def refresh(self) -> Snapshot:
        async with self._lock:
            now = time.monotonic()
            if self.latest is not None and now - self.latest.at < self.max_age_s:
                return self.latest
            store = self.ctx.store
            w = self.ctx.settings.worker
            queue = await store.metrics.queue_snapshot()
            workers = await store.workers.list(
                alive_within_s=max(w.lease_seconds, 3 * w.heartbeat_seconds)
            )
            runtime = self.ctx.runtime
            pool = runtime.pool_stats() if runtime is not None else None
            live = [x for x in workers if x.state != "stopped"]
            changes = await store.configs.changes_total()
            self.latest = Snapshot(
                queue=queue, workers=live, pool=pool, at=now, config_changes=changes
            )
            return self.latest


def _cumulative(bounds: tuple[float, ...], counts: tuple[int, ...]) -> list[tuple[str, float]]:
    out: list[tuple[str, float]] = []
    running = 0
    for bound, count in zip(bounds, counts, strict=False):
        running += count
        out.append((repr(float(bound)), float(running)))
    out.append(("+Inf", float(sum(counts))))
    return out


class ServiceCollector(Collector):
    def __init__(self, cache: MetricsCache, unauthenticated: Mapping[str, int]) -> None:
        self.cache = cache
        self.unauthenticated = unauthenticated

    def collect(self) -> Iterator[Metric]:
        refused = CounterMetricFamily(
            "netfleet_api_unauthenticated_requests",
            "API requests refused before authentication (missing or invalid token, "
            "or throttled after repeated failures), by reason.",
            labels=["reason"],
        )
        for reason in ("missing", "invalid", "throttled"):
            refused.add_metric([reason], float(self.unauthenticated.get(reason, 0)))
        yield refused
        yield from self._supervision()
        snap = self.cache.latest
        if snap is None:
            return
        yield from self._queue(snap.queue)
        yield CounterMetricFamily(
            "netfleet_config_changes",
            "Configuration versions stored after each device's first (backups).",
            value=snap.config_changes,
        )
        yield from self._workers(snap.workers)
        if snap.pool is not None:
            yield from self._pool(snap.pool)

    def _supervision(self) -> Iterator[Metric]:
        runtime = self.cache.ctx.runtime
        if runtime is None:
            return
        down = GaugeMetricFamily(
            "netfleet_embedded_component_down",
            "1 while an embedded component (worker, scheduler, ...) is down and restarting.",
            labels=["component"],
        )
        for name in sorted(runtime.down()):
            down.add_metric([name], 1.0)
        yield down
        restarts = CounterMetricFamily(
            "netfleet_embedded_component_restarts",
            "Restarts of crashed embedded components since the service started.",
            labels=["component"],
        )
        for name, n in sorted(runtime.restarts().items()):
            restarts.add_metric([name], float(n))
        yield restarts

    def _queue(self, q: QueueSnapshot) -> Iterator[Metric]:
        jobs = GaugeMetricFamily("netfleet_jobs", "Jobs by state.", labels=["state"])
        for state, n in q.jobs.items():
            jobs.add_metric([state], n)
        yield jobs
        tasks = GaugeMetricFamily("netfleet_tasks", "Tasks by state.", labels=["state"])
        for state, n in q.tasks.items():
            tasks.add_metric([state], n)
        yield tasks
        yield GaugeMetricFamily(
            "netfleet_queue_depth", "Tasks ready to run now.", value=q.queue_depth
        )
        buckets = [(repr(float(b)), float(n)) for b, n in q.duration_buckets]
        buckets.append(("+Inf", float(q.duration_count)))
        yield HistogramMetricFamily(
            "netfleet_task_duration_seconds",
            "Run time of finished tasks (last attempt), kept jobs only.",
            buckets=buckets,
            sum_value=q.duration_sum,
        )
        errors = GaugeMetricFamily(
            "netfleet_task_errors", "Failed tasks by error kind.", labels=["kind"]
        )
        for kind, n in sorted(q.errors.items()):
            errors.add_metric([kind], n)
        yield errors
        skipped = CounterMetricFamily(
            "netfleet_schedule_skipped_firings",
            "Schedule firings skipped, by schedule and reason (misfire, overlap).",
            labels=["schedule", "reason"],
        )
        for (name, reason), n in sorted(q.schedule_skips.items()):
            skipped.add_metric([name, reason], n)
        yield skipped

    def _workers(self, workers: list[WorkerRecord]) -> Iterator[Metric]:
        yield GaugeMetricFamily("netfleet_workers", "Live workers.", value=len(workers))
        util = GaugeMetricFamily(
            "netfleet_worker_utilisation", "Running tasks / concurrency.", labels=["worker"]
        )
        running_total = 0
        capacity = 0
        logins = reuses = checkouts = sessions = 0
        for w in workers:
            running = int(w.stats.get("running", 0) or 0)
            running_total += running
            capacity += w.concurrency
            util.add_metric([w.id], running / w.concurrency if w.concurrency else 0.0)
            pool = w.stats.get("pool")
            if isinstance(pool, dict):
                logins += int(pool.get("logins", 0) or 0)
                reuses += int(pool.get("reuses", 0) or 0)
                checkouts += int(pool.get("checkouts", 0) or 0)
                sessions += int(pool.get("sessions_open", 0) or 0)
        yield util
        yield GaugeMetricFamily(
            "netfleet_utilisation",
            "Running tasks / concurrency over all live workers.",
            value=running_total / capacity if capacity else 0.0,
        )
        yield CounterMetricFamily(
            "netfleet_logins", "Session logins (live workers' pools).", value=logins
        )
        yield CounterMetricFamily(
            "netfleet_reuses", "Checkouts served by an open session.", value=reuses
        )
        yield CounterMetricFamily("netfleet_checkouts", "Session checkouts.", value=checkouts)
        yield GaugeMetricFamily(
            "netfleet_reuse_rate",
            "Share of checkouts served by an open session.",
            value=reuses / checkouts if checkouts else 0.0,
        )
        yield GaugeMetricFamily("netfleet_sessions_open", "Open sessions.", value=sessions)

    def _pool(self, pool: PoolStats) -> Iterator[Metric]:
        t = pool.total
        hist = t.login_seconds
        yield HistogramMetricFamily(
            "netfleet_login_seconds",
            "Login time of new sessions (this server's pool).",
            buckets=_cumulative(hist.buckets, hist.counts),
            sum_value=hist.total,
        )
        yield CounterMetricFamily(
            "netfleet_login_failures", "Failed logins (this server's pool).", value=t.login_failures
        )
        evictions = CounterMetricFamily(
            "netfleet_session_evictions",
            "Sessions closed by the pool, by reason (this server's pool).",
            labels=["reason"],
        )
        for reason, n in sorted(t.evictions.items()):
            evictions.add_metric([reason], n)
        yield evictions


def build_registry(
    cache: MetricsCache, unauthenticated: Mapping[str, int] | None = None
) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(ServiceCollector(cache, {} if unauthenticated is None else unauthenticated))
    return registry

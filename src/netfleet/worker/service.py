"""Running a worker process: the pool, the executor, the scheduler, signals, clean-up."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from netfleet.core.errors import NetfleetError
from netfleet.core.logging import get_logger
from netfleet.core.settings import Settings
from netfleet.device.device import Device
from netfleet.pool import SessionPool, device_pool
from netfleet.store import SqlStore
from netfleet.worker.executor import PoolExecutor
from netfleet.worker.loop import BackgroundLoop, Worker, WorkerConfig
from netfleet.worker.shutdown import shutdown_signals
from netfleet.worker.stats import WorkerStats

log = get_logger(__name__)


@dataclass(frozen=True, slots=True)
class ServeOptions:
    """Command-line overrides of ``[worker]`` settings."""

    concurrency: int | None = None
    scheduler: bool | None = None
    worker_id: str | None = None
    signals: bool = True


def worker_config(settings: Settings, concurrency: int | None = None) -> WorkerConfig:
    w = settings.worker
    return WorkerConfig(
        concurrency=concurrency or w.concurrency,
        lease_s=w.lease_seconds,
        heartbeat_s=min(w.heartbeat_seconds, w.lease_seconds / 3),
        poll_s=w.poll_seconds,
        drain_timeout_s=w.drain_timeout_seconds,
        retention_s=retention_seconds(settings),
    )


def retention_seconds(settings: Settings) -> float | None:
    """``database.retention_days`` in seconds; None when 0 (keep every job)."""
    days = settings.database.retention_days
    return days * 86_400.0 if days > 0 else None


def raise_fd_limit(needed: int) -> None:
    """Raise the open-files soft limit towards ``needed`` (one socket per session)."""
    try:
        import resource
    except ImportError:  # pragma: no cover - not POSIX
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY or soft >= needed:
        return
    target = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    except (ValueError, OSError) as exc:  # pragma: no cover - the OS said no
        log.warning("cannot raise the open files limit", wanted=target, error=str(exc))


async def serve(
    store: SqlStore, settings: Settings, options: ServeOptions | None = None
) -> WorkerStats:
    """Run a worker on ``store`` until SIGTERM/SIGINT (or ``Worker.stop``); close the pool."""
    options = options or ServeOptions()
    raise_fd_limit(settings.worker.max_connections_per_worker + 256)
    pool = device_pool(settings.pool, settings.worker, settings.connect)
    executor = PoolExecutor(
        pool,
        command_timeout_s=settings.worker.timeout_seconds,
        failure_strategy=settings.worker.failure_strategy,
        failure_n=settings.worker.failure_strategy_n,
    )
    run_scheduler_too = (
        settings.worker.scheduler if options.scheduler is None else options.scheduler
    )
    extra: tuple[BackgroundLoop, ...] = ()
    if run_scheduler_too:
        from netfleet.scheduler import run_scheduler

        extra = (lambda stop: run_scheduler(store, stop),)
    worker = Worker(
        store,
        executor,
        worker_config(settings, options.concurrency),
        worker_id=options.worker_id,
        warm_devices=pool.warm_devices,
        pool_stats=lambda: pool_summary(pool),
        extra_loops=extra,
    )
    try:
        if options.signals:
            with shutdown_signals(worker.stop, lambda: worker.stop(immediate=True)):
                await worker.run()
        else:
            await worker.run()
    finally:
        await pool.close(timeout=5.0)
        await executor.close()
        # Every session is closed now: give back any hold the store still counts.
        with contextlib.suppress(NetfleetError):
            await store.holds.release(worker.worker_id)
    return worker.stats


def pool_summary(pool: SessionPool[Device]) -> dict[str, object]:
    """The pool's totals (per-device detail stays local: it can be thousands of rows)."""
    stats = pool.stats()
    t = stats.total
    return {
        "sessions_open": t.sessions_open,
        "idle": t.idle,
        "in_use": t.in_use,
        "checkouts": t.checkouts,
        "logins": t.logins,
        "login_failures": t.login_failures,
        "reuses": t.reuses,
        "reuse_rate": round(t.reuse_rate, 4),
        "evictions": t.evictions,
    }

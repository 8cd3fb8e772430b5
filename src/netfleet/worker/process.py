"""Workers in a process: the wiring settings → session pool → executor → workers
(``build_workers``, shared by ``netfleet worker`` and ``netfleet serve``), signals,
and ``serve`` for a worker process."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from netfleet.core.errors import DatabaseUnavailable, NetfleetError
from netfleet.core.logging import get_logger
from netfleet.core.settings import Settings
from netfleet.device.device import Device
from netfleet.pool import SessionPool, device_pool
from netfleet.store import SqlStore
from netfleet.worker.backup import BackupRunner
from netfleet.worker.executor import Baseline, PoolExecutor
from netfleet.worker.stats import WorkerStats
from netfleet.worker.waiting import Backoff
from netfleet.worker.worker import BackgroundLoop, Worker, WorkerConfig, new_worker_id

log = get_logger(__name__)

SIGNALS = (signal.SIGTERM, signal.SIGINT)


def latest_backup(store: SqlStore) -> Baseline:
    """Dry-run baselines: the text of each device's latest backup (``store.configs``);
    None (no backup, or it cannot be read) makes the dry run read the device itself."""

    async def baseline(device: str) -> str | None:
        try:
            record = await store.configs.latest(device)
        except NetfleetError as exc:
            log.warning("no backup baseline for the dry run", device=device, error=str(exc))
            return None
        if record is None or not record.text or not record.text.strip():
            return None
        return record.text

    return baseline


RELEASE_RETRY_S = 10.0
"""How long a stopping worker retries giving back its session holds."""


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


def pool_summary(pool: SessionPool[Device]) -> dict[str, object]:
    """The pool's totals (per-device detail stays local: it can be thousands of rows)."""
    t = pool.totals()
    return {**t, "reuse_rate": round(t["reuses"] / t["checkouts"], 4) if t["checkouts"] else 0.0}


@dataclass(slots=True)
class WorkerGroup:
    """Workers sharing one session pool and one executor (``build_workers``)."""

    store: SqlStore
    pool: SessionPool[Device]
    executor: PoolExecutor
    workers: list[Worker]

    async def close(self) -> None:
        """After the workers returned: close the pool, send the last hold releases, and
        give back any hold the store still counts for them."""
        await self.pool.close(timeout=5.0)
        await self.executor.close()
        # Every session is closed now: give back any hold the store still counts.
        for worker in self.workers:
            await self._release_all(worker.worker_id)

    async def _release_all(self, worker_id: str) -> None:
        """Free every hold of ``worker_id``; a slow or briefly unreachable store is retried
        for about ``RELEASE_RETRY_S`` (after that the holds expire with their lease)."""
        backoff = Backoff(first=0.2, cap=2.0)
        deadline = asyncio.get_running_loop().time() + RELEASE_RETRY_S
        while True:
            try:
                await self.store.holds.release(worker_id)
                return
            except DatabaseUnavailable as exc:
                delay = backoff.failed()
                if asyncio.get_running_loop().time() + delay > deadline:
                    log.warning("session holds left to expire", worker_id=worker_id,
                                error=str(exc))  # fmt: skip
                    return
                await asyncio.sleep(delay)
            except NetfleetError as exc:
                log.warning("session holds left to expire", worker_id=worker_id,
                            error=str(exc), kind=exc.kind)  # fmt: skip
                return


def build_workers(
    store: SqlStore,
    settings: Settings,
    *,
    count: int = 1,
    concurrency: int | None = None,
    worker_id: str | None = None,
    extra_loops: tuple[BackgroundLoop, ...] = (),
) -> WorkerGroup:
    """``count`` workers on one pool and executor built from ``settings``.

    Ids: ``worker_id`` (default: a new ``host-pid-random``), with ``-N`` appended when
    there are several. Only the first publishes the pool's totals with its heartbeat
    (so summing over the workers table counts the pool once) and runs ``extra_loops``.
    """
    pool = device_pool(settings.pool, settings.worker, settings.connect)
    executor = PoolExecutor(
        pool,
        command_timeout_s=settings.worker.timeout_seconds,
        failure_strategy=settings.worker.failure_strategy,
        failure_n=settings.worker.failure_strategy_n,
        keep_raw=settings.masking.keep_raw,
        baseline=latest_backup(store),
    )
    executor.backups = BackupRunner(store, settings)
    base = worker_id or new_worker_id()
    config = worker_config(settings, concurrency)
    workers = [
        Worker(
            store,
            executor,
            config,
            worker_id=f"{base}-{index}" if count > 1 else base,
            warm_devices=pool.warm_devices,
            pool_stats=(lambda: pool_summary(pool)) if index == 0 else None,
            extra_loops=extra_loops if index == 0 else (),
        )
        for index in range(count)
    ]
    return WorkerGroup(store, pool, executor, workers)


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


@contextlib.contextmanager
def shutdown_signals(graceful: Callable[[], None], immediate: Callable[[], None]) -> Iterator[None]:
    """Route SIGTERM/SIGINT to ``graceful`` (first) and ``immediate`` (again) while inside."""
    loop = asyncio.get_running_loop()
    received: list[int] = []

    def handle(signum: int) -> None:
        received.append(signum)
        name = signal.Signals(signum).name
        if len(received) == 1:
            log.info("signal received: draining", signal=name)
            graceful()
        else:
            log.warning("signal received again: stopping now", signal=name)
            immediate()

    installed = []
    for sig in SIGNALS:
        try:
            loop.add_signal_handler(sig, handle, sig)
            installed.append(sig)
        except (NotImplementedError, RuntimeError):  # pragma: no cover - not main thread/POSIX
            pass
    try:
        yield
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)


async def serve(
    store: SqlStore, settings: Settings, options: ServeOptions | None = None
) -> WorkerStats:
    """Run a worker on ``store`` until SIGTERM/SIGINT (or ``Worker.stop``); close the pool."""
    options = options or ServeOptions()
    raise_fd_limit(settings.worker.max_connections_per_worker + 256)
    run_scheduler_too = (
        settings.worker.scheduler if options.scheduler is None else options.scheduler
    )
    extra: tuple[BackgroundLoop, ...] = ()
    if run_scheduler_too:
        from netfleet.scheduler import run_scheduler

        extra = (lambda stop: run_scheduler(store, stop),)
    from netfleet.worker.notify_loop import integration_loops

    owner = f"notify-{options.worker_id or new_worker_id()}"
    extra += integration_loops(store, settings, owner=owner)
    group = build_workers(
        store,
        settings,
        concurrency=options.concurrency,
        worker_id=options.worker_id,
        extra_loops=extra,
    )
    (worker,) = group.workers
    try:
        if options.signals:
            with shutdown_signals(worker.stop, lambda: worker.stop(immediate=True)):
                await worker.run()
        else:
            await worker.run()
    finally:
        await group.close()
    return worker.stats

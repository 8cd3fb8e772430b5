"""The embedded runtime of ``netfleet serve``: N workers sharing one session pool,
the scheduler loop, a watcher that retires sessions of changed devices, and the
service's housekeeping (audit retention, ended dashboard sessions).

Each is supervised (``netfleet.api.supervise``): a crashed loop is logged and
restarted with backoff, and ``down()`` (``/readyz``) names it meanwhile. The pool →
executor → workers wiring is ``netfleet.worker.process.build_workers`` (the same as
``netfleet worker``).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import Awaitable, Callable, Iterable

from netfleet.api.housekeeping import run_housekeeping
from netfleet.api.supervise import Backoffs, Supervisor
from netfleet.core.errors import NetfleetError
from netfleet.core.logging import get_logger
from netfleet.core.settings import Settings
from netfleet.pool import PoolStats
from netfleet.scheduler import run_scheduler
from netfleet.store import SqlStore
from netfleet.worker import Worker
from netfleet.worker.process import WorkerGroup, build_workers

log = get_logger(__name__)


class EmbeddedRuntime:
    """Workers, scheduler and generation watcher inside the service process."""

    def __init__(
        self,
        store: SqlStore,
        settings: Settings,
        *,
        workers: int = 1,
        scheduler: bool = True,
        watch_interval_s: float = 2.0,
        housekeeping: bool = True,
    ) -> None:
        self.store = store
        self.settings = settings
        self.scheduler = scheduler
        self.watch_interval_s = watch_interval_s
        self._group: WorkerGroup | None = (
            build_workers(store, settings, count=workers) if workers else None
        )
        self.pool = self._group.pool if self._group is not None else None
        self.workers: list[Worker] = self._group.workers if self._group is not None else []
        self.housekeeping = housekeeping
        self._components: list[str] = []
        self._stop = asyncio.Event()
        service = settings.service
        self.supervisor = Supervisor(
            self._stop,
            Backoffs(
                first_s=service.restart_backoff_seconds,
                max_s=max(service.restart_backoff_max_seconds, service.restart_backoff_seconds),
                settle_s=service.restart_settle_seconds,
            ),
        )

    # --- the Runtime protocol -------------------------------------------------------

    def pool_stats(self) -> PoolStats | None:
        return self.pool.stats() if self.pool is not None else None

    def retire(self, devices: Iterable[str]) -> int:
        if self.pool is None:
            return 0
        return sum(self.pool.retire(name) for name in devices)

    def down(self) -> dict[str, str]:
        return self.supervisor.down()

    def restarts(self) -> dict[str, int]:
        return dict(self.supervisor.restarts)

    def components(self) -> list[str]:
        return list(self._components)

    @property
    def worker_count(self) -> int:
        return len(self.workers)

    # --- running ----------------------------------------------------------------------

    def stop(self, *, immediate: bool = False) -> None:
        self._stop.set()
        for worker in self.workers:
            worker.stop(immediate=immediate)

    async def run(self) -> None:
        """Run until ``stop()``; then drain the workers and close the pool."""
        tasks: list[asyncio.Task[None]] = []

        def keep(name: str, run: Callable[[], Awaitable[None]]) -> None:
            self._components.append(name)
            tasks.append(asyncio.create_task(self.supervisor.keep(name, run)))

        for w in self.workers:
            keep(f"worker {w.worker_id}", self._worker_run(w))
        if self.scheduler:
            keep("scheduler", lambda: run_scheduler(self.store, self._stop))
        if self.pool is not None:
            keep("device watcher", self._watch_devices)
        if self.housekeeping:
            keep("housekeeping", lambda: run_housekeeping(self.store, self.settings, self._stop))
        if self.workers:
            from netfleet.worker.notify_loop import integration_loops

            owner = f"notify-{self.workers[0].worker_id}"
            loops = integration_loops(self.store, self.settings, owner=owner)
            for loop in loops:
                name = getattr(loop, "__qualname__", "integration loop")
                keep(name, functools.partial(loop, self._stop))
        try:
            results = await asyncio.gather(*tasks, return_exceptions=True)
            for result in results:
                if isinstance(result, BaseException) and not isinstance(
                    result, asyncio.CancelledError
                ):
                    log.error("an embedded loop failed", error=repr(result))
        finally:
            self._stop.set()
            if self._group is not None:
                await self._group.close()

    def _worker_run(self, worker: Worker) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            if not self._stop.is_set():
                worker.rearm()  # after a crash: claim again under the same id
            await worker.run()

        return run

    async def _watch_devices(self) -> None:
        """Retire pooled sessions of devices changed by anyone (API, CLI, other hosts)."""
        since = await self._now()
        while not self._stop.is_set():
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.watch_interval_s):
                    await self._stop.wait()
            if self._stop.is_set():
                return
            try:
                changed = await self.store.devices.changed_since(since)
            except NetfleetError as exc:
                log.warning("cannot check for changed devices", error=str(exc))
                continue
            if changed:
                since = max(at for _, at in changed)
                retired = self.retire(name for name, _ in changed)
                if retired:
                    log.info("retired sessions of changed devices", sessions=retired)

    async def _now(self) -> float:
        try:
            return await self.store.now()
        except NetfleetError:
            import time

            return time.time()

"""The scheduler loop: turn due schedules into jobs, exactly once per firing.

Per due schedule, each round:

1. plan the firings due in ``[next_fire_at, now]`` under the misfire policy
   (``netfleet.jobs.schedule.plan_firings``), with ``now`` from the database clock;
2. apply overlap control (``skip`` drops firings while the previous job is unfinished,
   ``queue`` holds them and keeps at most one job in flight);
3. in the same transaction, advance ``next_fire_at`` with
   ``UPDATE ... WHERE next_fire_at = :old`` (one scheduler wins; on PostgreSQL the others
   wait for its row lock, then match nothing) and insert one job per fire time, unique
   by ``(schedule_id, fire_time)`` — see ``netfleet.store.sql.schedules.fire``.

After the schedules, each round releases config jobs whose change window has opened
(``store.changes.release_open_windows``; each job's row is locked, so any number of
schedulers release it once).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from netfleet.core.errors import NetfleetError
from netfleet.core.logging import get_logger
from netfleet.jobs.schedule import Schedule, plan_firings
from netfleet.store import SqlStore

log = get_logger(__name__)

Clock = Callable[[], float]
"""Epoch seconds. Tests inject one; by default the store's (database) clock is used."""


@dataclass(slots=True)
class TickReport:
    """What one round did."""

    due: int = 0
    """Schedules that were due."""
    created: int = 0
    """Jobs created."""
    skipped: int = 0
    """Firings dropped by the misfire policy or by overlap ``skip``."""
    skipped_by_reason: Counter[str] = field(default_factory=Counter)
    """``skipped`` by reason: ``misfire`` (missed while no scheduler ran, dropped by the
    misfire policy) or ``overlap`` (the previous job of the schedule was unfinished)."""
    held: int = 0
    """Schedules held by overlap ``queue`` (previous job still unfinished)."""
    lost_races: int = 0
    """Schedules another scheduler advanced first."""
    errors: int = 0
    """Firings whose job could not be created (e.g. a target device was deleted)."""
    window_released: int = 0
    """Jobs released because their change window opened."""


class Scheduler:
    """Fires due schedules of one store. Any number may run against one database."""

    def __init__(
        self,
        store: SqlStore,
        *,
        grace_s: float = 30.0,
        batch: int = 100,
        now: Clock | None = None,
    ) -> None:
        self.store = store
        self.grace_s = grace_s
        self.batch = batch
        self._clock = now
        self.skipped_total: Counter[str] = Counter()
        """Firings skipped since this scheduler started, by reason (a metric)."""

    async def now(self) -> float:
        return self._clock() if self._clock is not None else await self.store.now()

    async def tick(self) -> TickReport:
        """One round over every due schedule."""
        report = TickReport()
        now = await self.now()
        for schedule in await self.store.schedules.due(now, limit=self.batch):
            report.due += 1
            await self._fire(schedule, now, report)
        report.window_released = len(await self.store.changes.release_open_windows())
        return report

    async def _fire(self, schedule: Schedule, now: float, report: TickReport) -> None:
        assert schedule.next_fire_at is not None
        plan = plan_firings(
            schedule.spec,
            schedule.next_fire_at,
            datetime.fromtimestamp(now, UTC),
            grace_s=self.grace_s,
            limit=self.batch,
        )
        result = await self.store.schedules.fire(schedule, plan)
        if not result.won:
            report.lost_races += 1
            return
        if result.held:
            report.held += 1
            return
        report.created += len(result.job_ids)
        report.skipped += result.skipped
        report.errors += len(result.errors)
        for error in result.errors:
            log.warning("schedule firing failed", schedule=schedule.name, error=error)
        if result.skipped:
            by_reason = self._skipped(
                schedule, report, misfire=min(plan.skipped, result.skipped), total=result.skipped
            )
            try:  # a metric: a failure to count is logged, never stops the scheduler
                await self.store.metrics.count_schedule_skips(schedule.id, by_reason)
            except NetfleetError as exc:
                log.warning("counting skipped firings failed", error=str(exc))

    def _skipped(
        self, schedule: Schedule, report: TickReport, *, misfire: int, total: int
    ) -> dict[str, int]:
        """Count and log skipped firings at warning, by reason; returns the counts."""
        counted: dict[str, int] = {}
        for reason, count in (("misfire", misfire), ("overlap", total - misfire)):
            if count <= 0:
                continue
            counted[reason] = count
            report.skipped_by_reason[reason] += count
            self.skipped_total[reason] += count
            log.warning(
                "schedule firings skipped",
                schedule=schedule.name,
                count=count,
                reason=reason,
                overlap=schedule.spec.overlap,
                misfire_policy=schedule.spec.misfire_policy,
            )
        return counted

    async def sleep_for(self, interval: float, report: TickReport) -> float:
        """Seconds until the next round: up to ``interval``, less if a firing comes sooner,
        none if the round was full (more schedules may be due)."""
        if report.due >= self.batch and (report.created or report.skipped):
            return 0.0
        now = await self.now()
        earliest = await self.store.schedules.earliest_next_fire(now)
        # Schedules held by overlap control are polled at the interval.
        return interval if earliest is None else min(interval, max(0.0, earliest - now))


async def run_scheduler(
    store: SqlStore,
    stop: asyncio.Event,
    *,
    interval: float = 1.0,
    grace_s: float = 30.0,
    batch: int = 100,
    now: Clock | None = None,
) -> None:
    """Fire due schedules until ``stop`` is set. Database errors are logged and retried."""
    scheduler = Scheduler(store, grace_s=grace_s, batch=batch, now=now)
    failures = 0
    while not stop.is_set():
        try:
            report = await scheduler.tick()
            delay = await scheduler.sleep_for(interval, report)
            failures = 0
        except NetfleetError as exc:
            failures += 1
            delay = min(30.0, interval * 2 ** min(failures, 5))
            log.warning("scheduler round failed", error=str(exc), retry_in_s=delay)
        except Exception:  # a bug must not stop firing for good: log it, back off, go on
            failures += 1
            delay = min(30.0, interval * 2 ** min(failures, 5))
            log.exception("scheduler round crashed", retry_in_s=delay)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(max(delay, 0.001)):
                await stop.wait()

"""The scheduler loop: turn due schedules into jobs, exactly once per firing.

Per due schedule, each round:

1. plan the firings due in ``[next_fire_at, now]`` under the misfire policy
   (``netfleet.jobs.schedule.plan_firings``), with ``now`` from the database clock;
2. apply overlap control (``skip`` drops firings while the previous job is unfinished,
   ``queue`` holds them and keeps at most one job in flight);
3. submit one job per fire time with ``schedule_id`` and ``fire_time`` — unique in the
   database, so a firing submitted twice (by two schedulers, or after a crash between
   steps 3 and 4) returns the existing job instead of a second one;
4. advance ``next_fire_at`` with ``UPDATE ... WHERE next_fire_at = :old``: one scheduler
   wins, the others see the new value next round.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from netfleet.core.errors import InputError, NetfleetError, NotFound
from netfleet.core.logging import get_logger
from netfleet.jobs.schedule import Schedule, plan_firings
from netfleet.store import schedules as sql
from netfleet.store.interface import Store

log = get_logger(__name__)

Clock = Callable[[], float]
"""Epoch seconds. Tests inject one; by default the store's (database) clock is used."""


@dataclass(slots=True)
class TickReport:
    """What one round did."""

    due: int = 0
    """Schedules that were due."""
    submitted: int = 0
    """Firings submitted (a firing another scheduler created counts too: same job)."""
    skipped: int = 0
    """Firings dropped by the misfire policy or by overlap ``skip``."""
    held: int = 0
    """Schedules held by overlap ``queue`` (previous job still unfinished)."""
    lost_races: int = 0
    """Schedules another scheduler advanced first."""
    errors: int = 0
    """Firings whose job could not be created (e.g. a target device was deleted)."""


class Scheduler:
    """Fires due schedules of one store. Any number may run against one database."""

    def __init__(
        self,
        store: Store,
        *,
        grace_s: float = 30.0,
        batch: int = 100,
        now: Clock | None = None,
    ) -> None:
        self.store = store
        self.grace_s = grace_s
        self.batch = batch
        self._clock = now

    async def now(self) -> float:
        return self._clock() if self._clock is not None else await self.store.now()

    async def tick(self) -> TickReport:
        """One round over every due schedule."""
        report = TickReport()
        now = await self.now()
        for schedule in await sql.due_schedules(self.store, now, limit=self.batch):
            report.due += 1
            await self._fire(schedule, now, report)
        return report

    async def _fire(self, schedule: Schedule, now: float, report: TickReport) -> None:
        spec = schedule.spec
        assert schedule.next_fire_at is not None
        plan = plan_firings(
            spec,
            schedule.next_fire_at,
            datetime.fromtimestamp(now, UTC),
            grace_s=self.grace_s,
            limit=self.batch,
        )
        fires = list(plan.fire_times)
        new_next = plan.next_fire_at
        report.skipped += plan.skipped
        if fires:
            busy = await sql.unfinished_job(self.store, schedule.id, fires[0].timestamp())
            if busy is not None and spec.overlap == "queue":
                report.held += 1
                return
            if busy is not None:  # overlap == "skip"
                report.skipped += len(fires)
                log.info(
                    "schedule firing skipped: previous job unfinished",
                    schedule=spec.name,
                    job_id=busy,
                    fire_time=fires[0].isoformat(),
                )
                fires = []
            elif len(fires) > 1:
                # The first job is unfinished while the next firings come due.
                if spec.overlap == "queue":
                    new_next = fires[1]
                else:
                    report.skipped += len(fires) - 1
                fires = fires[:1]
        for fire in fires:
            try:
                await self.store.submit(
                    spec.job_template, schedule_id=schedule.id, fire_time=fire.timestamp()
                )
                report.submitted += 1
            except (InputError, NotFound) as exc:
                report.errors += 1
                log.warning(
                    "schedule firing failed",
                    schedule=spec.name,
                    fire_time=fire.isoformat(),
                    error=str(exc),
                )
        won = await sql.advance(
            self.store,
            schedule.id,
            expected_next=schedule.next_fire_at.timestamp(),
            new_next=new_next.timestamp() if new_next is not None else None,
            last_fire=fires[-1].timestamp() if fires else None,
        )
        if not won:
            report.lost_races += 1

    async def sleep_for(self, interval: float, report: TickReport) -> float:
        """Seconds until the next round: up to ``interval``, less if a firing comes sooner,
        none if the round was full (more schedules may be due)."""
        if report.due >= self.batch:
            return 0.0
        earliest = await sql.earliest_next_fire(self.store)
        if earliest is None:
            return interval
        wait = earliest - await self.now()
        # Due but not fired (held by overlap control, lost race): poll at the interval.
        return interval if wait <= 0 else min(interval, wait)


async def run_scheduler(
    store: Store,
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
            if report.submitted or report.errors:
                log.debug("scheduler round", **vars_of(report))
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
            await asyncio.wait_for(stop.wait(), timeout=max(delay, 0.001))


def vars_of(report: TickReport) -> dict[str, int]:
    return {
        "due": report.due,
        "submitted": report.submitted,
        "skipped": report.skipped,
        "held": report.held,
        "lost_races": report.lost_races,
        "errors": report.errors,
    }

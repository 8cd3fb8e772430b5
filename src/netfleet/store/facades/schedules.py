"""The façade of schedules: ``store.schedules``."""

from __future__ import annotations

import builtins

from netfleet.jobs.schedule import FiringPlan, Schedule, ScheduleSpec
from netfleet.store.facades import Facade
from netfleet.store.sql import schedules as schedules_sql
from netfleet.store.sql.schedules import FireResult


class Schedules(Facade):
    """Schedules by id or name; ``fire`` carries out one firing plan, exactly once."""

    async def create(self, spec: ScheduleSpec) -> Schedule:
        """Store a validated schedule; ``Conflict`` if the name is taken, ``ScheduleError``
        if it would never fire or its job template targets unknown devices."""
        db = self._db
        return await db.run(
            lambda c: schedules_sql.create(c, spec, db.clock(c)),
            what=f"create schedule {spec.name!r}",
        )

    async def replace(self, ref: int | str, spec: ScheduleSpec) -> Schedule:
        """Replace a schedule's definition (same id); its next firing is computed afresh.
        Errors as for ``create``, and ``NotFound`` if absent."""
        db = self._db
        return await db.run(
            lambda c: schedules_sql.replace(c, ref, spec, db.clock(c)),
            what=f"replace schedule {ref!r}",
        )

    async def get(self, ref: int | str) -> Schedule:
        """One schedule by id or name; ``NotFound`` if absent."""
        return await self._db.run(
            lambda c: schedules_sql.get(c, ref), what=f"read schedule {ref!r}", write=False
        )

    async def list(self, *, enabled: bool | None = None) -> builtins.list[Schedule]:
        """All schedules by name (optionally only enabled or only paused ones)."""
        return await self._db.run(
            lambda c: schedules_sql.list_all(c, enabled), what="list schedules", write=False
        )

    async def set_enabled(self, ref: int | str, enabled: bool) -> Schedule:
        """Pause or resume. Resuming a cron schedule restarts it from now: firings that
        fell into the pause are not misfires. A one-time schedule keeps its time."""
        db = self._db
        return await db.run(
            lambda c: schedules_sql.set_enabled(c, ref, enabled, db.clock(c)),
            what=f"{'resume' if enabled else 'pause'} schedule {ref!r}",
        )

    async def delete(self, ref: int | str) -> None:
        """Delete a schedule (its jobs stay, with ``schedule_id`` cleared); ``NotFound``."""
        await self._db.run(lambda c: schedules_sql.delete(c, ref), what=f"delete schedule {ref!r}")

    async def due(self, now: float, *, limit: int = 100) -> builtins.list[Schedule]:
        """Enabled schedules whose ``next_fire_at`` has come by ``now``, earliest first
        (except those held by overlap ``queue``)."""
        return await self._db.run(
            lambda c: schedules_sql.due(c, now, limit), what="list due schedules", write=False
        )

    async def fire(self, schedule: Schedule, plan: FiringPlan) -> FireResult:
        """Carry out a firing plan in one transaction, exactly once across schedulers
        (see ``netfleet.store.sql.schedules.fire``); wakes the workers for new jobs."""
        db = self._db
        result = await db.run(
            lambda c: schedules_sql.fire(c, schedule, plan, db.clock(c)),
            what=f"fire schedule {schedule.spec.name!r}",
        )
        if result.job_ids:
            db.wake()
        return result

    async def earliest_next_fire(self, after: float) -> float | None:
        """The earliest ``next_fire_at`` after ``after`` of any enabled schedule."""
        return await self._db.run(
            lambda c: schedules_sql.earliest_next_fire(c, after),
            what="read the next firing",
            write=False,
        )

    async def fired_times(self, schedule_id: int) -> builtins.list[float]:
        """Every fire time that has a job, ascending."""
        return await self._db.run(
            lambda c: schedules_sql.fired_times(c, schedule_id),
            what=f"read firings of schedule {schedule_id}",
            write=False,
        )

"""Schedule methods of the Python API (mixed into ``netfleet.client.Netfleet``).

    async with Netfleet("sqlite:///netfleet.db") as nf:
        s = await nf.add_schedule(
            name="nightly-backup", cron="30 2 * * *", timezone="Europe/Berlin",
            groups=["core"], commands=["show running-config"],
        )
        print(nf.preview("30 2 * * *", "Europe/Berlin", 3))
        await nf.pause_schedule("nightly-backup")

Firing is done by ``netfleet worker`` (its built-in scheduler) or ``run_scheduler``.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from netfleet.jobs.cron import preview as _preview
from netfleet.jobs.model import JobSpec
from netfleet.jobs.policy import check_job_policy
from netfleet.jobs.schedule import Schedule, build_schedule, fire_after
from netfleet.store import SqlStore
from netfleet.store import schedules as sql


class ScheduleMethods:
    """``add_schedule``, ``get_schedule``, ``list_schedules``, ``pause_schedule``,
    ``resume_schedule``, ``delete_schedule``, ``preview`` and ``upcoming``."""

    @property
    def store(self) -> SqlStore:  # provided by Netfleet
        raise NotImplementedError

    async def add_schedule(
        self,
        *,
        name: str,
        cron: str | None = None,
        at: datetime | str | None = None,
        timezone: str = "UTC",
        devices: Sequence[str] = (),
        groups: Sequence[str] = (),
        filter: str | None = None,
        commands: Sequence[str] = (),
        config: Sequence[str] = (),
        job_name: str | None = None,
        template: JobSpec | dict[str, Any] | None = None,
        start_at: datetime | str | None = None,
        end_at: datetime | str | None = None,
        enabled: bool = True,
        misfire_policy: str = "skip",
        misfire_window_s: float = 60.0,
        overlap: str = "queue",
        **options: Any,
    ) -> Schedule:
        """Create a one-time (``at``) or cron (``cron``) schedule of a job.

        The job is given like ``submit``'s (devices/groups/filter, commands or config,
        ``JobOptions`` fields as keywords) or whole as ``template``. Naive times are local
        to ``timezone``. ``ScheduleError`` names any problem; nothing is stored then."""
        if template is None:
            template = {
                "targets": {"devices": list(devices), "groups": list(groups), "filter": filter},
                "commands": list(commands),
                "config": list(config),
                "options": options,
                "name": job_name,
            }
        now = datetime.fromtimestamp(await self.store.now(), UTC)
        spec = build_schedule(
            name=name,
            cron=cron,
            at=at,
            timezone=timezone,
            job_template=template,
            enabled=enabled,
            start_at=start_at,
            end_at=end_at,
            misfire_policy=misfire_policy,
            misfire_window_s=misfire_window_s,
            overlap=overlap,
            now=now,
        )
        check_job_policy(spec.job_template, admin=True, what="a schedule")
        return await sql.create_schedule(self.store, spec)

    async def get_schedule(self, ref: int | str) -> Schedule:
        """A schedule by id or name (``NotFound``)."""
        return await sql.get_schedule(self.store, ref)

    async def list_schedules(self, *, enabled: bool | None = None) -> builtins.list[Schedule]:
        """All schedules by name; ``enabled=True``/``False`` for active or paused only."""
        return await sql.list_schedules(self.store, enabled=enabled)

    async def pause_schedule(self, ref: int | str) -> Schedule:
        return await sql.set_enabled(self.store, ref, False)

    async def resume_schedule(self, ref: int | str) -> Schedule:
        """Resume from now: firings that fell into the pause are not run."""
        return await sql.set_enabled(self.store, ref, True)

    async def delete_schedule(self, ref: int | str) -> None:
        """Delete a schedule; the jobs it created stay."""
        await sql.delete_schedule(self.store, ref)

    def preview(
        self,
        expression: str,
        timezone: str = "UTC",
        n: int = 5,
        after: datetime | None = None,
    ) -> builtins.list[datetime]:
        """The next ``n`` fire times of a cron expression, aware in ``timezone``."""
        return _preview(expression, timezone, n, after)

    async def upcoming(self, ref: int | str, n: int = 5) -> builtins.list[datetime]:
        """The next ``n`` fire times of a stored schedule (honours start, end, pause)."""
        schedule = await self.get_schedule(ref)
        out: builtins.list[datetime] = []
        cursor = schedule.next_fire_at
        if not schedule.enabled:
            return out
        while cursor is not None and len(out) < n:
            out.append(cursor.astimezone(schedule.spec.tz))
            cursor = fire_after(schedule.spec, cursor)
        return out

"""The Python API: submit jobs to the durable queue and read their results.

    async with Netfleet("sqlite:///netfleet.db") as nf:
        await nf.import_inventory("inventory.yaml")
        job = await nf.submit(groups=["core"], commands=["show version"])
        job = await nf.wait(job.id, timeout=300)
        for task in job.tasks:
            print(task.device, task.state, [r.output for r in task.results])

    async with Netfleet("sqlite:///netfleet.db") as nf:
        s = await nf.add_schedule(
            name="nightly-backup", cron="30 2 * * *", timezone="Europe/Berlin",
            groups=["core"], commands=["show running-config"],
        )
        print(nf.preview("30 2 * * *", "Europe/Berlin", 3))
        await nf.pause_schedule("nightly-backup")

    async with Netfleet("sqlite:///netfleet.db") as nf:   # safe changes
        job = await nf.submit(groups=["core"], config=[...], submitted_by="alice")
        await nf.approve(job.id, by="bob")                # another admin than alice
        gate = await nf.gate(job.id)                      # approval, window, rollout
        await nf.resume(halted_id, by="bob")              # a halted rollout

Workers (``netfleet worker``) run the tasks and fire the schedules; this API only
talks to the store.
"""

from __future__ import annotations

import asyncio
import builtins
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from pydantic import ValidationError as PydanticValidationError

from netfleet.client.results import Job
from netfleet.core.errors import DeadlineExceeded, StoreError, ValidationError
from netfleet.core.settings import Settings
from netfleet.jobs.cron import preview as _preview
from netfleet.jobs.model import JobSpec, JobState, parse_job_spec
from netfleet.jobs.policy import check_job_policy
from netfleet.jobs.schedule import Schedule, build_schedule, fire_after
from netfleet.jobs.windows import Verdict, WindowSpec
from netfleet.store import SqlStore, open_store
from netfleet.store.records import ImportReport, JobFilter
from netfleet.store.records_changes import GateRecord, WindowRecord


class Netfleet:
    """A connection to the netfleet store (SQLite file or PostgreSQL): jobs, inventory
    and schedules."""

    def __init__(
        self,
        db_url: str | None = None,
        *,
        settings: Settings | None = None,
        secret_key: str | bytes | None = None,
    ) -> None:
        self._db_url = db_url
        self._settings = settings
        self._secret_key = secret_key
        self._store: SqlStore | None = None

    async def __aenter__(self) -> Netfleet:
        await self.open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def open(self) -> None:
        if self._store is None:
            self._store = await open_store(
                self._db_url, settings=self._settings, secret_key=self._secret_key
            )

    async def close(self) -> None:
        if self._store is not None:
            await self._store.close()
            self._store = None

    @property
    def store(self) -> SqlStore:
        if self._store is None:
            raise StoreError("Netfleet is not open: use 'async with Netfleet(...) as nf'")
        return self._store

    async def import_inventory(self, path: str | Path) -> ImportReport:
        """Load a netfleet/simulator YAML or Nornir inventory into the store (upsert by name)."""
        from netfleet.core.inventory import load_inventory

        inventory = load_inventory(path)
        return await self.store.devices.import_many(inventory.devices)

    async def submit(
        self,
        *,
        devices: Sequence[str] = (),
        groups: Sequence[str] = (),
        filter: str | None = None,
        commands: Sequence[str] = (),
        config: Sequence[str] = (),
        name: str | None = None,
        submitted_by: str | None = None,
        **options: Any,
    ) -> Job:
        """Queue a job; options are ``JobOptions`` fields (priority, max_attempts, ...).
        ``submitted_by`` names the submitter (who may then not approve it).

        Raises ``ValidationError`` naming the bad field, unknown devices or groups."""
        spec = parse_job_spec(_job_dict(devices, groups, filter, commands, config, name, options))
        return await self.submit_spec(spec, submitted_by=submitted_by)

    async def submit_spec(
        self, spec: JobSpec | dict[str, Any], *, submitted_by: str | None = None
    ) -> Job:
        """Queue a job. Privileged commands in a command job need
        ``allow_privileged_commands=True`` (``CommandNotAllowed`` otherwise)."""
        parsed = parse_job_spec(spec)
        check_job_policy(parsed, admin=True)
        record = await self.store.jobs.submit(parsed, submitted_by=submitted_by)
        return Job.from_record(record)

    async def get(self, job_id: int) -> Job:
        return Job.from_record(await self.store.jobs.get(job_id))

    async def wait(self, job_id: int, timeout: float | None = None, poll: float = 0.2) -> Job:
        """Return the job once finished; ``DeadlineExceeded`` after ``timeout`` seconds."""
        deadline = None if timeout is None else time.monotonic() + timeout
        delay = min(0.02, poll)
        while True:
            record = await self.store.jobs.get(job_id, tasks=False)
            if record.finished:
                return await self.get(job_id)
            if deadline is not None and time.monotonic() >= deadline:
                raise DeadlineExceeded(
                    f"job {job_id} still {record.state} after {timeout}s "
                    f"({record.counts.total - record.counts.queued} of "
                    f"{record.counts.total} tasks started)"
                )
            sleep = delay if deadline is None else min(delay, max(0.0, deadline - time.monotonic()))
            await asyncio.sleep(sleep)
            delay = min(delay * 2, poll)

    async def cancel(self, job_id: int) -> Job:
        return Job.from_record(await self.store.jobs.cancel(job_id))

    async def list(
        self,
        *,
        state: JobState | Sequence[JobState] | None = None,
        device: str | None = None,
        schedule_id: int | None = None,
        limit: int = 50,
    ) -> builtins.list[Job]:
        """Recent jobs, newest first (without task details; ``get`` a job for those)."""
        states: tuple[JobState, ...] = ()
        if isinstance(state, str):
            states = (state,)
        elif state is not None:
            states = tuple(state)
        page = await self.store.jobs.list(
            JobFilter(states=states, device=device, schedule_id=schedule_id), limit=limit
        )
        return [Job.from_record(r) for r in page.items]

    # --- safe changes: approvals, rollouts, change windows (as the API's /jobs/{id}/...) ---

    async def gate(self, job_id: int) -> GateRecord:
        """What holds a job back (approval, change window, rollout); ``NotFound`` if nothing."""
        return await self.store.changes.gate(job_id)

    async def gates(
        self, *, state: str | Sequence[str] = (), limit: int = 100
    ) -> builtins.list[GateRecord]:
        """Gated jobs, newest first (``state``: one or more gate states)."""
        states = (state,) if isinstance(state, str) else tuple(state)
        return await self.store.changes.gates(states, limit=limit)

    async def approve(self, job_id: int, *, by: str) -> GateRecord:
        """Approve a job awaiting approval as admin ``by`` (``Forbidden`` for its submitter)."""
        await self.store.changes.approve(job_id, _actor(by))
        await self._audit(by, job_id, "approve")
        return await self.gate(job_id)

    async def reject(self, job_id: int, *, by: str, reason: str = "") -> GateRecord:
        """Reject a job awaiting approval (it is cancelled), with the reason."""
        await self.store.changes.reject(job_id, _actor(by), reason)
        await self._audit(by, job_id, "reject", reason=reason[:1000])
        return await self.gate(job_id)

    async def resume(self, job_id: int, *, by: str) -> GateRecord:
        """Resume a halted rollout (earlier failures no longer count against its budget)."""
        await self.store.changes.resume(job_id, _actor(by))
        await self._audit(by, job_id, "resume")
        return await self.gate(job_id)

    async def _audit(self, actor: str, job_id: int, decision: str, **detail: str) -> None:
        """Decisions taken through this API land in the audit log, like the API's."""
        await self.store.audit.record(
            actor=actor,
            role="admin",
            method="POST",
            path=f"python:/jobs/{job_id}/{decision}",
            status=200,
            detail={"job_id": job_id, "decision": decision, **detail},
        )

    async def put_window(self, spec: WindowSpec | dict[str, Any]) -> WindowRecord:
        """Create or replace a change window by name (``ValidationError`` if bad)."""
        try:
            parsed = spec if isinstance(spec, WindowSpec) else WindowSpec.model_validate(spec)
        except PydanticValidationError as exc:
            raise ValidationError(f"change window: {_first_error(exc)}") from None
        record, _ = await self.store.changes.put_window(parsed)
        return record

    async def windows(self) -> builtins.list[WindowRecord]:
        return await self.store.changes.windows()

    async def delete_window(self, name: str) -> None:
        await self.store.changes.delete_window(name)

    async def verdict(self, at: datetime | None = None) -> Verdict:
        """May a config change start at ``at`` (default now), by the unscoped windows?"""
        return await self.store.changes.verdict(None if at is None else at.timestamp())

    # --- schedules (fired by ``netfleet worker``'s scheduler or ``run_scheduler``) ---

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
            template = _job_dict(devices, groups, filter, commands, config, job_name, options)
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
        return await self.store.schedules.create(spec)

    async def get_schedule(self, ref: int | str) -> Schedule:
        """A schedule by id or name (``NotFound``)."""
        return await self.store.schedules.get(ref)

    async def list_schedules(self, *, enabled: bool | None = None) -> builtins.list[Schedule]:
        """All schedules by name; ``enabled=True``/``False`` for active or paused only."""
        return await self.store.schedules.list(enabled=enabled)

    async def pause_schedule(self, ref: int | str) -> Schedule:
        return await self.store.schedules.set_enabled(ref, False)

    async def resume_schedule(self, ref: int | str) -> Schedule:
        """Resume from now: firings that fell into the pause are not run."""
        return await self.store.schedules.set_enabled(ref, True)

    async def delete_schedule(self, ref: int | str) -> None:
        """Delete a schedule; the jobs it created stay."""
        await self.store.schedules.delete(ref)

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
        return _upcoming(await self.get_schedule(ref), n)


def _actor(by: str) -> str:
    if not isinstance(by, str) or not by.strip():
        raise ValidationError("by: name the admin taking the decision")
    return by.strip()


def _first_error(exc: PydanticValidationError) -> str:
    err = exc.errors()[0]
    message = str(err.get("msg", "invalid")).removeprefix("Value error, ")
    where = ".".join(str(p) for p in err.get("loc", ()))
    return f"{where}: {message}" if where else message


def _job_dict(
    devices: Sequence[str],
    groups: Sequence[str],
    filter: str | None,
    commands: Sequence[str],
    config: Sequence[str],
    name: str | None,
    options: dict[str, Any],
) -> dict[str, Any]:
    """A job spec (as data) from the keywords of ``submit`` and ``add_schedule``."""
    return {
        "targets": {"devices": list(devices), "groups": list(groups), "filter": filter},
        "commands": list(commands),
        "config": list(config),
        "options": options,
        "name": name,
    }


def _upcoming(schedule: Schedule, n: int) -> list[datetime]:
    """The next ``n`` fire times of ``schedule`` (none while paused), in its time zone."""
    out: list[datetime] = []
    cursor = schedule.next_fire_at
    if not schedule.enabled:
        return out
    while cursor is not None and len(out) < n:
        out.append(cursor.astimezone(schedule.spec.tz))
        cursor = fire_after(schedule.spec, cursor)
    return out

"""``/api/v1/schedules``: cron or one-time schedules of a job template.

Schedules are addressed by id or by name. Mutations need the admin role.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from netfleet.api.auth import Admin, Viewer
from netfleet.api.context import store_of
from netfleet.api.problems import responses
from netfleet.jobs.cron import preview as cron_preview
from netfleet.jobs.model import JobSpec
from netfleet.jobs.policy import check_job_policy
from netfleet.jobs.schedule import Schedule, ScheduleSpec, build_schedule, schedule_ref

router = APIRouter(tags=["schedules"])


class ScheduleIn(BaseModel):
    """A schedule: exactly one of ``cron`` (recurring) or ``at`` (one time), and a job."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=255)
    cron: str | None = Field(
        None, max_length=255, examples=["*/5 * * * *"], description="5 or 6 (seconds) fields."
    )
    at: datetime | None = Field(None, description="One-time fire time (naive = in timezone).")
    timezone: str = Field("UTC", max_length=64, examples=["Europe/Berlin"])
    job: JobSpec
    enabled: bool = True
    start_at: datetime | None = None
    end_at: datetime | None = None
    misfire_policy: Literal["skip", "run_latest", "backfill"] = "skip"
    misfire_window_s: float = Field(60.0, ge=0, le=366 * 86_400)
    overlap: Literal["skip", "queue"] = "queue"

    def to_spec(self) -> ScheduleSpec:
        return build_schedule(
            name=self.name,
            job_template=self.job,
            cron=self.cron,
            at=self.at,
            timezone=self.timezone,
            enabled=self.enabled,
            start_at=self.start_at,
            end_at=self.end_at,
            misfire_policy=self.misfire_policy,
            misfire_window_s=self.misfire_window_s,
            overlap=self.overlap,
        )


class ScheduleOut(BaseModel):
    id: int
    name: str
    kind: Literal["cron", "once"]
    cron: str | None
    at: datetime | None
    timezone: str
    job: dict[str, Any]
    enabled: bool
    start_at: datetime | None
    end_at: datetime | None
    misfire_policy: str
    misfire_window_s: float
    overlap: str
    next_fire_at: datetime | None
    last_fire_at: datetime | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, s: Schedule) -> ScheduleOut:
        spec = s.spec
        return cls(
            id=s.id,
            name=spec.name,
            kind=spec.kind,
            cron=spec.expression,
            at=spec.at,
            timezone=spec.timezone,
            job=spec.job_template.model_dump(mode="json", exclude_defaults=True),
            enabled=spec.enabled,
            start_at=spec.start_at,
            end_at=spec.end_at,
            misfire_policy=spec.misfire_policy,
            misfire_window_s=spec.misfire_window_s,
            overlap=spec.overlap,
            next_fire_at=s.next_fire_at,
            last_fire_at=s.last_fire_at,
            created_at=s.created_at,
            updated_at=s.updated_at,
        )


class ScheduleList(BaseModel):
    items: list[ScheduleOut]


class Preview(BaseModel):
    expression: str
    timezone: str
    fire_times: list[datetime] = Field(description="Local times in the time zone.")


@router.get("/schedules", response_model=ScheduleList, summary="List schedules")
async def list_schedules(
    request: Request, _: Viewer, enabled: Annotated[bool | None, Query()] = None
) -> ScheduleList:
    items = await store_of(request).schedules.list(enabled=enabled)
    return ScheduleList(items=[ScheduleOut.of(s) for s in items])


@router.get("/schedules/preview", response_model=Preview, summary="Next fire times of a cron")
async def preview_schedule(
    _: Viewer,
    expression: Annotated[str, Query(min_length=1, max_length=255)],
    timezone: Annotated[str, Query(min_length=1, max_length=64)] = "UTC",
    n: Annotated[int, Query(ge=1, le=100)] = 5,
    after: Annotated[datetime | None, Query()] = None,
) -> Preview:
    times = cron_preview(expression, timezone, n, after)
    return Preview(expression=expression, timezone=timezone, fire_times=times)


@router.post(
    "/schedules",
    response_model=ScheduleOut,
    status_code=201,
    summary="Create a schedule",
    responses=responses(409),
)
async def create_schedule(request: Request, principal: Admin, body: ScheduleIn) -> ScheduleOut:
    spec = body.to_spec()
    check_job_policy(spec.job_template, admin=principal.allows("admin"), what="a schedule")
    schedule = await store_of(request).schedules.create(spec)
    request.state.audit = {"schedule": schedule.name, "schedule_id": schedule.id}
    return ScheduleOut.of(schedule)


@router.get(
    "/schedules/{ref}",
    response_model=ScheduleOut,
    summary="Show a schedule (by id or name)",
    responses=responses(404),
)
async def get_schedule(request: Request, _: Viewer, ref: str) -> ScheduleOut:
    return ScheduleOut.of(await store_of(request).schedules.get(schedule_ref(ref)))


@router.put(
    "/schedules/{ref}",
    response_model=ScheduleOut,
    summary="Replace a schedule's definition",
    responses=responses(404, 409),
)
async def put_schedule(
    request: Request, principal: Admin, ref: str, body: ScheduleIn
) -> ScheduleOut:
    spec = body.to_spec()
    check_job_policy(spec.job_template, admin=principal.allows("admin"), what="a schedule")
    schedule = await store_of(request).schedules.replace(schedule_ref(ref), spec)
    request.state.audit = {"schedule": schedule.name, "schedule_id": schedule.id}
    return ScheduleOut.of(schedule)


@router.delete(
    "/schedules/{ref}",
    status_code=204,
    summary="Delete a schedule (its jobs stay)",
    responses=responses(404),
)
async def delete_schedule(request: Request, _: Admin, ref: str) -> Response:
    await store_of(request).schedules.delete(schedule_ref(ref))
    request.state.audit = {"schedule": ref}
    return Response(status_code=204)


@router.post(
    "/schedules/{ref}/pause",
    response_model=ScheduleOut,
    summary="Pause a schedule",
    responses=responses(404),
)
async def pause_schedule(request: Request, _: Admin, ref: str) -> ScheduleOut:
    request.state.audit = {"schedule": ref}
    return ScheduleOut.of(await store_of(request).schedules.set_enabled(schedule_ref(ref), False))


@router.post(
    "/schedules/{ref}/resume",
    response_model=ScheduleOut,
    summary="Resume a paused schedule",
    responses=responses(404),
)
async def resume_schedule(request: Request, _: Admin, ref: str) -> ScheduleOut:
    request.state.audit = {"schedule": ref}
    return ScheduleOut.of(await store_of(request).schedules.set_enabled(schedule_ref(ref), True))

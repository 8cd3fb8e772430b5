"""``/api/v1/jobs``: submit, list, show (tasks and outputs), cancel, rerun, delete.

Command jobs need the operator role; config jobs, privileged commands and the
``allow_privileged_commands`` option need admin (``netfleet.jobs.policy``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response

from netfleet.api.auth import Admin, Operator, Principal, Viewer
from netfleet.api.context import store_of
from netfleet.api.problems import responses
from netfleet.api.schemas_jobs import JobDetail, JobId, JobPage, JobSubmit, JobSummary
from netfleet.jobs.model import JobSpec, JobState
from netfleet.jobs.policy import check_job_policy, job_permission
from netfleet.store.records import JobFilter

router = APIRouter(tags=["jobs"])


def _check_policy(request: Request, principal: Principal, spec: JobSpec) -> None:
    request.state.audit = {"kind": job_permission(spec)}  # also on a refusal
    check_job_policy(spec, admin=principal.allows("admin"))


@router.post(
    "/jobs",
    response_model=JobSummary,
    status_code=201,
    summary="Submit a job (commands: operator; config: admin)",
    responses=responses(403, 422),
)
async def submit_job(
    request: Request,
    principal: Operator,
    body: JobSubmit,
    idempotency_key: Annotated[
        str | None,
        Header(min_length=1, max_length=200, description="Same key, same job (no duplicate)."),
    ] = None,
) -> JobSummary:
    spec = body.to_spec(idempotency_key)
    _check_policy(request, principal, spec)
    job = await store_of(request).jobs.submit(spec, submitted_by=principal.name)
    request.state.audit = {
        "job_id": job.id,
        "kind": job_permission(spec),
        "tasks": job.counts.total,
        **({"emergency": True} if spec.options.emergency else {}),
    }
    return JobSummary.of(job)


@router.get("/jobs", response_model=JobPage, summary="List jobs, newest first")
async def list_jobs(
    request: Request,
    _: Viewer,
    state: Annotated[list[JobState] | None, Query(description="Any of these states")] = None,
    device: Annotated[str | None, Query(max_length=255, description="Has a task on it")] = None,
    schedule: Annotated[int | None, Query(ge=0, le=2**62, description="Fired by it")] = None,
    created_after: Annotated[datetime | None, Query()] = None,
    created_before: Annotated[datetime | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    cursor: Annotated[int | None, Query(ge=0, le=2**62)] = None,
) -> JobPage:
    filt = JobFilter(
        states=tuple(state or ()),
        device=device,
        schedule_id=schedule,
        created_after=created_after.timestamp() if created_after else None,
        created_before=created_before.timestamp() if created_before else None,
    )
    page = await store_of(request).jobs.list(filt, limit=limit, cursor=cursor)
    return JobPage(items=[JobSummary.of(j) for j in page.items], next_cursor=page.next_cursor)


@router.get(
    "/jobs/{job_id}",
    response_model=JobDetail,
    summary="Show a job: state, tasks, per-command outputs",
    responses=responses(404),
)
async def get_job(
    request: Request,
    _: Viewer,
    job_id: JobId,
    outputs: Annotated[bool, Query(description="Include command outputs")] = True,
    all_attempts: Annotated[bool, Query(description="Also earlier attempts' results")] = False,
) -> JobDetail:
    job = await store_of(request).jobs.get(job_id, tasks=True, outputs=outputs)
    return JobDetail.detail(job, all_attempts=all_attempts)


@router.post(
    "/jobs/{job_id}/cancel",
    response_model=JobSummary,
    summary="Cancel a job (queued tasks now, running ones at their next heartbeat)",
    responses=responses(404, 409),
)
async def cancel_job(request: Request, _: Operator, job_id: JobId) -> JobSummary:
    request.state.audit = {"job_id": job_id}
    return JobSummary.of(await store_of(request).jobs.cancel(job_id))


@router.post(
    "/jobs/{job_id}/rerun",
    response_model=JobSummary,
    status_code=201,
    summary="Submit a new job with the same spec",
    responses=responses(403, 404, 422),
)
async def rerun_job(request: Request, principal: Operator, job_id: JobId) -> JobSummary:
    store = store_of(request)
    old = await store.jobs.get(job_id, tasks=False, outputs=False)
    _check_policy(request, principal, old.spec)
    options = old.spec.options.model_copy(update={"idempotency_key": None, "run_at": None})
    spec = old.spec.model_copy(update={"options": options})
    job = await store.jobs.submit(spec, submitted_by=principal.name)
    request.state.audit = {"job_id": job.id, "rerun_of": job_id, "kind": job_permission(spec)}
    return JobSummary.of(job)


@router.delete(
    "/jobs/{job_id}",
    status_code=204,
    summary="Delete a finished job with its outputs and events",
    responses=responses(404, 409),
)
async def delete_job(request: Request, _: Admin, job_id: JobId) -> Response:
    await store_of(request).jobs.delete(job_id)
    request.state.audit = {"job_id": job_id}
    return Response(status_code=204)

"""``GET /api/v1/jobs/{job_id}/tasks/{task_id}/raw``: a task's outputs before masking.

Admins only (403 for others), and every read is audited. The unmasked text exists
only with ``masking.keep_raw = true`` (kept encrypted at rest); otherwise, or where
masking changed nothing, the stored output is returned with ``raw: false``.
"""

from __future__ import annotations

import contextlib
from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Path, Request
from pydantic import BaseModel, Field

from netfleet.api.auth import Admin
from netfleet.api.context import context
from netfleet.api.problems import ProblemException, responses
from netfleet.api.schemas_jobs import JobId
from netfleet.core.errors import NetfleetError

router = APIRouter(tags=["jobs"])

TaskId = Annotated[int, Path(ge=1, le=2**62, description="Task id")]


class RawOutputOut(BaseModel):
    attempt: int
    seq: int
    command: str
    output: str
    raw: bool = Field(description="True: the output before masking (masking.keep_raw).")


class RawOutputs(BaseModel):
    job_id: int
    task_id: int
    device: str
    keep_raw: bool = Field(description="Whether the service keeps raw outputs now.")
    items: list[RawOutputOut]


@router.get(
    "/jobs/{job_id}/tasks/{task_id}/raw",
    response_model=RawOutputs,
    summary="A task's outputs before secret masking (admin only, audited)",
    responses=responses(404),
)
async def raw_outputs(
    request: Request, principal: Admin, job_id: JobId, task_id: TaskId
) -> RawOutputs:
    ctx = context(request)
    job = await ctx.store.jobs.get(job_id, tasks=True, outputs=False)
    task = next((t for t in job.tasks or () if t.id == task_id), None)
    if task is None:
        raise ProblemException(404, f"job {job_id} has no task {task_id}", kind="not_found")
    items = await ctx.store.raw_outputs.read(task_id)
    with contextlib.suppress(NetfleetError):  # reading secrets is audited, best effort
        await ctx.store.audit.record(
            actor=principal.name,
            role=principal.role,
            method="GET",
            path=request.url.path,
            status=200,
            detail={"raw_outputs": sum(i.raw for i in items)},
        )
    return RawOutputs(
        job_id=job_id,
        task_id=task_id,
        device=task.device_name,
        keep_raw=ctx.settings.masking.keep_raw,
        items=[RawOutputOut(**asdict(i)) for i in items],
    )

"""Safe changes: approve or reject gated config jobs, resume halted rollouts (admin),
and manage change windows (``/api/v1/change-windows``; admin to change, viewer to read).

The submitter of a job awaiting approval may not approve it (403); another admin
must. Every decision lands in the audit log and in the job's events.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from netfleet.api.auth import Admin, Viewer
from netfleet.api.context import store_of
from netfleet.api.problems import responses
from netfleet.api.schemas_changes import (
    GateOut,
    RejectBody,
    VerdictOut,
    WindowIn,
    WindowName,
    WindowOut,
)
from netfleet.api.schemas_jobs import JobId
from netfleet.jobs.windows import Window
from netfleet.store.records_changes import WindowRecord

router = APIRouter(tags=["changes"])


async def _gate_out(request: Request, job_id: int) -> GateOut:
    store = store_of(request)
    gate = await store.changes.gate(job_id)
    job = await store.jobs.get(job_id, tasks=False, outputs=False)
    return GateOut.of(gate, job.state)


@router.get(
    "/jobs/{job_id}/gate",
    response_model=GateOut,
    summary="What holds a job back: approval, change window, rollout progress",
    responses=responses(404),
)
async def get_gate(request: Request, _: Viewer, job_id: JobId) -> GateOut:
    return await _gate_out(request, job_id)


@router.post(
    "/jobs/{job_id}/approve",
    response_model=GateOut,
    summary="Approve a job awaiting approval (another admin than its submitter)",
    responses=responses(403, 404, 409),
)
async def approve_job(request: Request, principal: Admin, job_id: JobId) -> GateOut:
    request.state.audit = {"job_id": job_id, "decision": "approve"}
    await store_of(request).changes.approve(job_id, principal.name)
    return await _gate_out(request, job_id)


@router.post(
    "/jobs/{job_id}/reject",
    response_model=GateOut,
    summary="Reject a job awaiting approval (it is cancelled)",
    responses=responses(404, 409),
)
async def reject_job(
    request: Request, principal: Admin, job_id: JobId, body: RejectBody | None = None
) -> GateOut:
    reason = body.reason if body is not None else ""
    request.state.audit = {"job_id": job_id, "decision": "reject", "reason": reason}
    await store_of(request).changes.reject(job_id, principal.name, reason)
    return await _gate_out(request, job_id)


@router.post(
    "/jobs/{job_id}/resume",
    response_model=GateOut,
    summary="Resume a halted rollout (earlier failures no longer count)",
    responses=responses(404, 409),
)
async def resume_job(request: Request, principal: Admin, job_id: JobId) -> GateOut:
    request.state.audit = {"job_id": job_id, "decision": "resume"}
    await store_of(request).changes.resume(job_id, principal.name)
    return await _gate_out(request, job_id)


@router.get(
    "/gates",
    response_model=list[GateOut],
    summary="Gated jobs (awaiting approval or a window, rolling out, halted), newest first",
)
async def list_gates(
    request: Request,
    _: Viewer,
    state: Annotated[list[str] | None, Query(max_length=10)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[GateOut]:
    gates = await store_of(request).changes.gates(tuple(state or ()), limit=limit)
    return [GateOut.of(g) for g in gates]


# --- change windows ---------------------------------------------------------------


async def _window_out(request: Request, record: WindowRecord) -> WindowOut:
    now = await store_of(request).now()
    window = Window.of(record.spec)
    period = window.period_at(now)
    return WindowOut.of(
        record,
        open_now=period is not None,
        next_opening=now if period is not None else window.next_start(now),
    )


@router.get("/change-windows", response_model=list[WindowOut], summary="List change windows")
async def list_windows(request: Request, _: Viewer) -> list[WindowOut]:
    return [await _window_out(request, w) for w in await store_of(request).changes.windows()]


@router.get(
    "/change-windows/verdict",
    response_model=VerdictOut,
    summary="May a config change start now (or at `at`)? With the next opening if not",
)
async def window_verdict(
    request: Request, _: Viewer, at: Annotated[datetime | None, Query()] = None
) -> VerdictOut:
    verdict = await store_of(request).changes.verdict(at.timestamp() if at else None)
    return VerdictOut.of(verdict)


@router.get(
    "/change-windows/{name}",
    response_model=WindowOut,
    summary="Show a change window and its next opening",
    responses=responses(404),
)
async def get_window(request: Request, _: Viewer, name: WindowName) -> WindowOut:
    return await _window_out(request, await store_of(request).changes.window(name))


@router.put(
    "/change-windows/{name}",
    response_model=WindowOut,
    summary="Create or replace a change window (allowed period or blackout)",
    responses=responses(422),
)
async def put_window(
    request: Request, _: Admin, name: WindowName, body: WindowIn, response: Response
) -> WindowOut:
    spec = body.to_spec(name)
    request.state.audit = {"window": name, "kind": spec.kind}
    record, created = await store_of(request).changes.put_window(spec)
    response.status_code = 201 if created else 200
    return await _window_out(request, record)


@router.delete(
    "/change-windows/{name}",
    status_code=204,
    summary="Delete a change window",
    responses=responses(404),
)
async def delete_window(request: Request, _: Admin, name: WindowName) -> Response:
    request.state.audit = {"window": name}
    await store_of(request).changes.delete_window(name)
    return Response(status_code=204)

"""Safe changes in the dashboard: the approval queue (approve, reject), resuming a halted
rollout, and the change windows with their next opening.

The same ``store.changes`` calls and role rules as ``/api/v1`` (approve, reject and
resume: admin; the submitter may not approve their own job). Every decision is a POST
form with the session's CSRF token and lands in the audit log.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError as PydanticValidationError

from netfleet.core.errors import Conflict, Forbidden, NotFound, ValidationError
from netfleet.jobs.model import describe_pydantic_error
from netfleet.jobs.windows import Window, WindowSpec
from netfleet.store.records import JobFilter
from netfleet.store.records_changes import GateRecord, WindowRecord
from netfleet.web.auth import PageError, audit_action, check_post, require_user
from netfleet.web.context import User, dashboard
from netfleet.web.render import page

router = APIRouter()
CurrentUser = Annotated[User, Depends(require_user)]

QUEUE_SIZE = 100
NOTICES = {
    "approved": "Approved: the job is released (or waits for its change window).",
    "rejected": "Rejected: the job is cancelled.",
    "resumed": "Resumed: the rollout continues; earlier failures no longer count.",
    "window-saved": "Change window saved.",
    "window-deleted": "Change window deleted.",
}


async def _queue_page(
    request: Request, user: User, *, error: str = "", status: int = 200
) -> Response:
    store = dashboard(request).store
    jobs = await store.jobs.list(JobFilter(states=("awaiting_approval",)), limit=QUEUE_SIZE)
    gates = {g.job_id: g for g in await store.changes.gates(("awaiting_approval",), limit=1000)}
    notice = NOTICES.get(request.query_params.get("notice", ""), "")
    return page(
        request,
        "approvals.html",
        {
            "items": [(job, gates.get(job.id)) for job in jobs.items],
            "notice": notice,
            "error": error,
        },
        user=user,
        status=status,
    )


@router.get("/approvals")
async def approvals(request: Request, user: CurrentUser) -> Response:
    return await _queue_page(request, user)


async def _decide(request: Request, user: User, job_id: int, decision: str) -> Response:
    board = dashboard(request)
    form = await request.form()
    check_post(request, form, user, "admin")
    detail: dict[str, object] = {"job_id": job_id, "decision": decision}
    try:
        if decision == "approve":
            await board.store.changes.approve(job_id, user.name)
        else:
            reason = form.get("reason")
            text = reason.strip() if isinstance(reason, str) else ""
            detail["reason"] = text[:1000]
            await board.store.changes.reject(job_id, user.name, text)
    except Forbidden as exc:
        await audit_action(request, user, 403, {**detail, "refused": exc.message})
        return await _queue_page(request, user, error=exc.message, status=403)
    except NotFound as exc:
        raise PageError(404, exc.message) from None
    except Conflict as exc:
        await audit_action(request, user, 409, {**detail, "refused": exc.message})
        return await _queue_page(request, user, error=exc.message, status=409)
    await audit_action(request, user, 200, detail)
    notice = "approved" if decision == "approve" else "rejected"
    return RedirectResponse(board.url(f"/approvals?notice={notice}"), status_code=303)


@router.post("/jobs/{job_id}/approve")
async def approve(request: Request, user: CurrentUser, job_id: int) -> Response:
    return await _decide(request, user, job_id, "approve")


@router.post("/jobs/{job_id}/reject")
async def reject(request: Request, user: CurrentUser, job_id: int) -> Response:
    return await _decide(request, user, job_id, "reject")


@router.post("/jobs/{job_id}/resume")
async def resume(request: Request, user: CurrentUser, job_id: int) -> Response:
    board = dashboard(request)
    form = await request.form()
    check_post(request, form, user, "admin")
    try:
        await board.store.changes.resume(job_id, user.name)
    except NotFound as exc:
        raise PageError(404, exc.message) from None
    except Conflict as exc:
        raise PageError(409, exc.message) from None
    await audit_action(request, user, 200, {"job_id": job_id, "decision": "resume"})
    return RedirectResponse(board.url(f"/jobs/{job_id}?notice=resumed"), status_code=303)


# --- rollout progress on the job page --------------------------------------------


@dataclass(frozen=True, slots=True)
class Batch:
    """One rollout batch as the job page shows it."""

    number: int
    size: int
    first: int
    """Position (1-based, in device name order) of its first device."""
    state: str
    """``done``, ``running``, ``halted`` or ``waiting``."""


def batches(gate: GateRecord, finished: bool) -> list[Batch]:
    """The gate's batch plan with each batch's state."""
    out: list[Batch] = []
    first = 1
    for index, size in enumerate(gate.plan):
        if index < gate.batch - 1 or (
            index == gate.batch - 1 and (finished or gate.state == "done")
        ):
            state = "done"
        elif index == gate.batch - 1:
            state = "halted" if gate.state == "halted" else "running"
        else:
            state = "waiting"
        out.append(Batch(index + 1, size, first, state))
        first += size
    return out


async def job_gate(request: Request, job_id: int) -> GateRecord | None:
    """The job's gate, or None for a job without one."""
    try:
        return await dashboard(request).store.changes.gate(job_id)
    except NotFound:
        return None


# --- change windows ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WindowRow:
    record: WindowRecord
    open_now: bool
    next_opening: float | None
    period_end: float | None


async def _window_rows(request: Request) -> list[WindowRow]:
    store = dashboard(request).store
    now = await store.now()
    rows = []
    for record in await store.changes.windows():
        window = Window.of(record.spec)
        period = window.period_at(now)
        rows.append(
            WindowRow(
                record,
                open_now=period is not None,
                next_opening=now if period is not None else window.next_start(now),
                period_end=period[1] if period is not None else None,
            )
        )
    return rows


async def _windows_page(
    request: Request,
    user: User,
    *,
    error: str = "",
    status: int = 200,
    form: dict[str, str] | None = None,
) -> Response:
    store = dashboard(request).store
    notice = NOTICES.get(request.query_params.get("notice", ""), "")
    return page(
        request,
        "windows.html",
        {
            "rows": await _window_rows(request),
            "verdict": await store.changes.verdict(),
            "notice": notice,
            "error": error,
            "form": form or {},
        },
        user=user,
        status=status,
    )


@router.get("/windows")
async def windows(request: Request, user: CurrentUser) -> Response:
    return await _windows_page(request, user)


def _spec_of(form: dict[str, str]) -> WindowSpec:
    body: dict[str, object] = {
        "name": form.get("name", "").strip(),
        "kind": form.get("kind", "allow"),
        "timezone": form.get("timezone", "").strip() or "UTC",
        "policy": form.get("policy", "wait"),
        "description": form.get("description", "").strip(),
    }
    weekly = form.get("weekly", "").strip()
    cron = form.get("cron", "").strip()
    if weekly:
        body["weekly"] = weekly
    if cron:
        body["cron"] = cron
        minutes = form.get("duration_minutes", "").strip()
        body["duration_minutes"] = int(minutes) if minutes.isdigit() else None
    return WindowSpec.model_validate(body)


@router.post("/windows")
async def save_window(request: Request, user: CurrentUser) -> Response:
    """Create or replace a window (admin), from ``weekly`` or ``cron`` + minutes."""
    board = dashboard(request)
    raw = await request.form()
    check_post(request, raw, user, "admin")
    form = {k: v for k, v in raw.items() if isinstance(v, str)}
    try:
        spec = _spec_of(form)
    except PydanticValidationError as exc:
        message = describe_pydantic_error(exc).replace("invalid job", "invalid window")
        return await _windows_page(request, user, error=message, status=422, form=form)
    try:
        await board.store.changes.put_window(spec)
    except ValidationError as exc:
        return await _windows_page(request, user, error=exc.message, status=422, form=form)
    await audit_action(request, user, 200, {"window": spec.name, "kind": spec.kind})
    return RedirectResponse(board.url("/windows?notice=window-saved"), status_code=303)


@router.post("/windows/{name}/delete")
async def delete_window(request: Request, user: CurrentUser, name: str) -> Response:
    board = dashboard(request)
    form = await request.form()
    check_post(request, form, user, "admin")
    try:
        await board.store.changes.delete_window(name)
    except NotFound as exc:
        raise PageError(404, exc.message) from None
    await audit_action(request, user, 200, {"window": name, "deleted": True})
    return RedirectResponse(board.url("/windows?notice=window-deleted"), status_code=303)

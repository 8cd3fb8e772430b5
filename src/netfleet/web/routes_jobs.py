"""Jobs: the list (filters, keyset pages), a job's tasks (paged), a task's outputs, cancel."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import PlainTextResponse, RedirectResponse, Response

from netfleet.core.errors import Conflict, NotFound
from netfleet.jobs.changes import CHANGE_RECORD
from netfleet.jobs.model import JOB_STATES, TASK_STATES, JobState, TaskState
from netfleet.store.records import JobFilter, JobRecord
from netfleet.web import params
from netfleet.web.auth import PageError, audit_action, check_post, require_user
from netfleet.web.context import User, dashboard
from netfleet.web.render import SECURITY_HEADERS, page
from netfleet.web.routes_changes import batches, job_gate

router = APIRouter()
CurrentUser = Annotated[User, Depends(require_user)]

JOBS_PAGE = 50
TASKS_PAGE = 100
ACTIVITY_LINES = 100
MAX_RENDERED_OUTPUT = 256 * 1024
"""Longer outputs are cut on the page (the full text is one click away)."""
MAX_PARSED_ROWS = 500
NOTICES = {
    "cancelled": "Cancel requested: queued tasks were cancelled, running ones asked to stop.",
    "finished": "The job had already finished; nothing to cancel.",
    "submitted": "Job submitted.",
    "resumed": "Resumed: the rollout continues; earlier failures no longer count.",
}


async def _job(request: Request, job_id: int) -> JobRecord:
    try:
        return await dashboard(request).store.jobs.get(job_id, tasks=False, outputs=False)
    except NotFound:
        raise PageError(404, f"job {job_id} not found") from None


@router.get("/jobs")
async def jobs(request: Request, user: CurrentUser) -> Response:
    store = dashboard(request).store
    state = params.choice(request, "state", JOB_STATES)
    device = params.text(request, "device")
    schedule = params.integer(request, "schedule", None, lo=1)
    cursor = params.integer(request, "cursor", None, lo=1)
    states: tuple[JobState, ...] = tuple(s for s in JOB_STATES if s == state)
    filt = JobFilter(states=states, device=device or None, schedule_id=schedule)
    result = await store.jobs.list(filt, limit=JOBS_PAGE, cursor=cursor)
    return page(
        request,
        "jobs.html",
        {
            "jobs": result.items,
            "next_cursor": result.next_cursor,
            "cursor": cursor,
            "state": state,
            "device": device,
            "schedule": schedule,
            "job_states": JOB_STATES,
        },
        user=user,
    )


@router.get("/jobs/{job_id}")
async def job_detail(request: Request, user: CurrentUser, job_id: int) -> Response:
    store = dashboard(request).store
    job = await _job(request, job_id)
    state = params.choice(request, "state", TASK_STATES)
    device = params.text(request, "device")
    offset = params.integer(request, "offset", 0) or 0
    states: tuple[TaskState, ...] = tuple(s for s in TASK_STATES if s == state)
    tasks = await store.reads.job_tasks(
        job_id, states=states, device=device or None, limit=TASKS_PAGE, offset=offset
    )
    activity = await store.reads.job_activity(job_id, limit=ACTIVITY_LINES)
    notice = NOTICES.get(request.query_params.get("notice", ""), "")
    gate = await job_gate(request, job_id)
    return page(
        request,
        "job.html",
        {
            "job": job,
            "gate": gate,
            "batches": batches(gate, job.finished) if gate is not None else [],
            "tasks": tasks,
            "activity": activity,
            "last_event_id": activity[-1].event.id if activity else 0,
            "state": state,
            "device": device,
            "task_states": TASK_STATES,
            "notice": notice,
        },
        user=user,
    )


@router.post("/jobs/{job_id}/cancel")
async def cancel_job(request: Request, user: CurrentUser, job_id: int) -> Response:
    board = dashboard(request)
    form = await request.form()
    check_post(request, form, user, "operator")
    await _job(request, job_id)
    notice = "cancelled"
    try:
        await board.store.jobs.cancel(job_id)
    except Conflict:
        notice = "finished"
    await audit_action(request, user, 200, {"job_id": job_id, "result": notice})
    return RedirectResponse(board.url(f"/jobs/{job_id}?notice={notice}"), status_code=303)


@router.get("/tasks/{task_id}")
async def task_detail(request: Request, user: CurrentUser, task_id: int) -> Response:
    store = dashboard(request).store
    try:
        task = await store.reads.task_with_outputs(task_id)
    except NotFound:
        raise PageError(404, f"task {task_id} not found") from None
    job = await _job(request, task.job_id)
    attempts: dict[int, list[Any]] = {}
    for out in task.outputs:
        if out.command != CHANGE_RECORD:  # shown as the diff, checks and rollback above
            attempts.setdefault(out.attempt, []).append(out)
    return page(
        request,
        "task.html",
        {
            "task": task,
            "job": job,
            "attempts": sorted(attempts.items(), reverse=True),
            "max_output": MAX_RENDERED_OUTPUT,
            "max_rows": MAX_PARSED_ROWS,
        },
        user=user,
    )


@router.get("/tasks/{task_id}/output/{attempt}/{seq}")
async def raw_output(
    request: Request, user: CurrentUser, task_id: int, attempt: int, seq: int
) -> Response:
    """One command's full output as plain text (never interpreted by the browser)."""
    store = dashboard(request).store
    try:
        task = await store.reads.task_with_outputs(task_id)
    except NotFound:
        raise PageError(404, f"task {task_id} not found") from None
    for out in task.outputs:
        if out.attempt == attempt and out.seq == seq:
            headers = dict(SECURITY_HEADERS)
            headers["Content-Disposition"] = (
                f'inline; filename="task{task_id}-a{attempt}-{seq}.txt"'
            )
            return PlainTextResponse(out.output, headers=headers)
    raise PageError(404, f"task {task_id} has no output {attempt}/{seq}")

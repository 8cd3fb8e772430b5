"""Live job page updates as server-sent events (cookie-authenticated, for ``EventSource``).

``GET /ui/jobs/{id}/stream?tasks=1,2,3&after=N`` polls the store and sends::

    event: job       data: {"state", "counts", "finished", "cancel_requested"}  (on change)
    event: task      data: {"id", "state", "attempt", ...}   (tasks on the page, on change)
    id: N            event: activity   data: {"id", "at", "kind", "message", "device"}
    event: end       data: {"state"}   (the job finished and everything was sent)

Strings arrive preformatted; the page inserts them as text, never as HTML. A
stream sleeps until the dashboard's ``StreamHub`` (one database poll per tick for all
streams) reports a change. It lives at most ``MAX_STREAM_S`` or
``service.event_stream_max_seconds`` (then ``event: close``; the browser reconnects
with ``Last-Event-ID``), closes within ``service.event_stream_token_check_seconds``
of its token's revocation, and ends when the service stops. A user may hold
``service.event_streams_per_token`` streams.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import StreamingResponse

from netfleet.core.errors import DatabaseUnavailable, NetfleetError, NotFound, TooManyStreams
from netfleet.core.logging import get_logger
from netfleet.store.progress import StreamHub, Subscription
from netfleet.store.records import TaskRecord
from netfleet.store.sql.reads import MAX_IDS
from netfleet.web import params
from netfleet.web.auth import PageError, require_user
from netfleet.web.context import Dashboard, User, dashboard
from netfleet.web.render import duration, when

log = get_logger(__name__)
router = APIRouter()
CurrentUser = Annotated[User, Depends(require_user)]

KEEPALIVE_S = 15.0
MAX_STREAM_S = 600.0
ACTIVITY_BATCH = 200
MAX_TASKS = MAX_IDS


def frame(event: str, data: object, event_id: int | None = None) -> str:
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


def task_view(task: TaskRecord) -> dict[str, Any]:
    """What a task row shows, preformatted."""
    ran = None
    if task.started_at is not None and task.finished_at is not None:
        ran = task.finished_at - task.started_at
    return {
        "id": task.id,
        "state": task.state,
        "attempt": f"{task.attempt}/{task.max_attempts}",
        "started": when(task.started_at),
        "duration": duration(ran) if ran is not None else "—",
        "error": f"{task.error_kind}: {task.error}" if task.error else "",
    }


async def job_stream(
    board: Dashboard, user: User, job_id: int, task_ids: list[int], after: int
) -> AsyncIterator[str]:
    """Subscribe inside the stream, so that the subscription always ends with it."""
    limit = board.settings.service.event_streams_per_token
    try:
        sub = _hub(board).subscribe(job_id, key=user.name, token_id=user.token_id, limit=limit)
    except TooManyStreams as exc:
        yield frame("close", {"reason": "too_many_streams", "error": exc.message})
        return
    with sub:
        async for chunk in _frames(board, sub, job_id, task_ids, after):
            yield chunk


async def _frames(
    board: Dashboard, sub: Subscription, job_id: int, task_ids: list[int], after: int
) -> AsyncIterator[str]:
    store = board.store
    started = time.monotonic()
    deadline = started + min(MAX_STREAM_S, board.settings.service.event_stream_max_seconds)
    last_sent = started
    last_job: dict[str, Any] = {}
    last_tasks: dict[int, tuple[str, str, str]] = {}
    stopping = board.stopping
    yield "retry: 2000\n\n"
    while True:
        try:
            job = await store.jobs.get(job_id, tasks=False, outputs=False)
            rows = await store.reads.tasks_by_id(job_id, task_ids)
            activity = await store.reads.job_activity(job_id, after_id=after, limit=ACTIVITY_BATCH)
        except DatabaseUnavailable as exc:
            log.warning("dashboard stream: store unavailable", job_id=job_id, error=str(exc))
            if stopping is not None and stopping.is_set():
                return
            await sub.wait(1.0)
            continue
        except NetfleetError as exc:  # deleted meanwhile
            yield frame("end", {"state": None, "error": exc.message})
            return
        sent = False
        for row in rows:
            view = task_view(row)
            key = (view["state"], view["attempt"], view["error"])
            if last_tasks.get(row.id) != key:
                last_tasks[row.id] = key
                yield frame("task", view)
                sent = True
        for line in activity:
            e = line.event
            after = e.id
            data = {
                "id": e.id,
                "at": when(e.at),
                "kind": e.kind,
                "message": e.message,
                "device": line.device or "",
            }
            yield frame("activity", data, e.id)
            sent = True
        job_view = {
            "state": job.state,
            "counts": job.counts.as_dict(),
            "finished": job.finished,
            "cancel_requested": job.cancel_requested,
        }
        if job_view != last_job:
            last_job = job_view
            yield frame("job", job_view)
            sent = True
        if len(activity) == ACTIVITY_BATCH:
            continue
        if job.finished:
            yield frame("end", {"state": job.state})
            return
        if sent:
            last_sent = time.monotonic()
        # Sleep until the hub says the job changed; keepalives meanwhile.
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                yield frame("close", {"reason": "max_lifetime"})
                return
            wait = min(left, max(0.0, KEEPALIVE_S - (time.monotonic() - last_sent)))
            woke = await sub.wait(wait)
            if sub.revoked:
                yield frame("close", {"reason": "token_revoked"})
                return
            if stopping is not None and stopping.is_set():
                return
            if woke:
                break
            if time.monotonic() - last_sent >= KEEPALIVE_S:
                last_sent = time.monotonic()
                yield ": keepalive\n\n"


def _hub(board: Dashboard) -> StreamHub:
    if board.hub is None:
        board.hub = StreamHub(
            board.store,
            token_check_s=board.settings.service.event_stream_token_check_seconds,
            stopping=board.stopping,
        )
    board.hub.poll_s = board.stream_poll_s
    return board.hub


@router.get("/jobs/{job_id}/stream")
async def stream(request: Request, user: CurrentUser, job_id: int) -> StreamingResponse:
    board = dashboard(request)
    try:
        await board.store.jobs.get(job_id, tasks=False, outputs=False)
    except NotFound:
        raise PageError(404, f"job {job_id} not found") from None
    task_ids = params.id_list(request.query_params.get("tasks", ""), MAX_TASKS)
    after = params.integer(request, "after", 0) or 0
    last_id = request.headers.get("last-event-id", "").strip()
    if last_id.isdigit() and len(last_id) <= 19:
        after = max(after, int(last_id))
    try:
        _hub(board).check_limit(user.name, board.settings.service.event_streams_per_token)
    except TooManyStreams as exc:
        raise PageError(429, exc.message) from None
    return StreamingResponse(
        job_stream(board, user, job_id, task_ids, after),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )

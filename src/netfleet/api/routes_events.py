"""A job's event log: as JSON pages, and as a live server-sent-event stream.

The stream polls the store every ``ServiceContext.stream_poll_s`` and sends::

    id: <event id>
    event: <kind>
    data: {"id": ..., "task_id": ..., "kind": ..., "message": ..., ...}

plus ``event: state`` when the job's state changes, and a last ``event: end``
(``data: {"state": ...}``) once the job has finished and every event was sent.
``Last-Event-ID`` (or ``?after=``) resumes after an event id. Comment lines keep
idle connections alive.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import StreamingResponse

from netfleet.api.auth import Viewer
from netfleet.api.context import ServiceContext, context, store_of
from netfleet.api.problems import responses
from netfleet.api.schemas_jobs import EventOut, EventPage, JobId
from netfleet.core.errors import DatabaseUnavailable, NetfleetError
from netfleet.core.logging import get_logger

log = get_logger(__name__)
router = APIRouter(tags=["jobs"])
KEEPALIVE_S = 15.0
PAGE = 500


@router.get(
    "/jobs/{job_id}/events",
    response_model=EventPage,
    summary="A job's events after an event id",
    responses=responses(404),
)
async def job_events(
    request: Request,
    _: Viewer,
    job_id: JobId,
    after: Annotated[int, Query(ge=0, le=2**62)] = 0,
    limit: Annotated[int, Query(ge=1, le=5000)] = 1000,
) -> EventPage:
    store = store_of(request)
    job = await store.jobs.get(job_id, tasks=False, outputs=False)
    events = await store.jobs.events(job_id, after_id=after, limit=limit)
    return EventPage(
        items=[EventOut.of(e) for e in events],
        next_after=events[-1].id if events else after,
        job_state=job.state,
        finished=job.finished,
    )


def _frame(event: str, data: object, event_id: int | None = None) -> str:
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


async def _stream(
    ctx: ServiceContext, request: Request, job_id: int, after: int
) -> AsyncIterator[str]:
    store = ctx.store
    last_state = ""
    last_sent = time.monotonic()
    settled = False
    yield "retry: 1000\n\n"
    while True:
        try:
            job = await store.jobs.get(job_id, tasks=False, outputs=False)
            events = await store.jobs.events(job_id, after_id=after, limit=PAGE)
        except DatabaseUnavailable as exc:
            log.warning("event stream: store unavailable", job_id=job_id, error=str(exc))
            await asyncio.sleep(1.0)
            continue
        except NetfleetError as exc:  # the job was deleted meanwhile
            yield _frame("end", {"state": None, "error": exc.message})
            return
        for event in events:
            after = event.id
            yield _frame(event.kind, EventOut.of(event).model_dump(mode="json"), event.id)
        if job.state != last_state:
            last_state = job.state
            yield _frame("state", {"state": job.state, "counts": job.counts.as_dict()})
        if events:
            last_sent = time.monotonic()
            if len(events) == PAGE:
                continue
        if job.finished:
            if settled or ctx.stopping.is_set():
                yield _frame("end", {"state": job.state})
                return
            settled = True  # one more poll: workers flush their last events just after
        elif ctx.stopping.is_set():
            return
        if await request.is_disconnected():
            return
        if time.monotonic() - last_sent >= KEEPALIVE_S:
            last_sent = time.monotonic()
            yield ": keepalive\n\n"
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(ctx.stopping.wait(), timeout=ctx.stream_poll_s)


@router.get(
    "/jobs/{job_id}/events/stream",
    summary="Live server-sent events of a job; ends when the job finishes",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"text/event-stream": {"schema": {"type": "string"}}}},
        **responses(404),
    },
)
async def job_event_stream(
    request: Request,
    _: Viewer,
    job_id: JobId,
    after: Annotated[int, Query(ge=0, le=2**62)] = 0,
    last_event_id: Annotated[str | None, Header(max_length=32)] = None,
) -> StreamingResponse:
    await store_of(request).jobs.get(job_id, tasks=False, outputs=False)  # 404 before streaming
    if last_event_id and last_event_id.strip().isdigit():
        after = max(after, int(last_event_id.strip()))
    return StreamingResponse(
        _stream(context(request), request, job_id, after),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )

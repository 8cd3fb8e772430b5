"""A job's event log: as JSON pages, and as a live server-sent-event stream.

The stream sleeps until the app's ``StreamHub`` (one database poll per
``ServiceContext.stream_poll_s`` for all streams) says its job changed, and sends::

    id: <event id>
    event: <kind>
    data: {"id": ..., "task_id": ..., "kind": ..., "message": ..., ...}

plus ``event: state`` when the job's state changes, and a last ``event: end``
(``data: {"state": ...}``) once the job has finished and every event was sent.
``Last-Event-ID`` (or ``?after=``) resumes after an event id. Comment lines keep
idle connections alive. A stream that cannot end this way ends with ``event: close``
(``data: {"reason": "max_lifetime" | "token_revoked", "state": ...}``): after
``service.event_stream_max_seconds``, or within ``service.event_stream_token_check_seconds``
of its token's revocation. A token may hold ``service.event_streams_per_token`` streams
(429 beyond).
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import StreamingResponse

from netfleet.api.auth import Principal, Viewer
from netfleet.api.context import ServiceContext, context, store_of
from netfleet.api.problems import responses
from netfleet.api.schemas_jobs import EventOut, EventPage, JobId
from netfleet.core.errors import DatabaseUnavailable, NetfleetError, TooManyStreams
from netfleet.core.logging import get_logger
from netfleet.store.progress import StreamHub, Subscription

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


async def _guarded(
    ctx: ServiceContext,
    hub: StreamHub,
    principal: Principal,
    limit: int,
    job_id: int,
    after: int,
    max_s: float,
) -> AsyncIterator[str]:
    """Subscribe inside the stream, so that the subscription always ends with it."""
    try:
        sub = hub.subscribe(job_id, key=principal.name, token_id=principal.token_id, limit=limit)
    except TooManyStreams as exc:
        yield _frame("close", {"reason": "too_many_streams", "error": exc.message})
        return
    async for chunk in _stream(ctx, job_id, after, sub, max_s):
        yield chunk


async def _stream(
    ctx: ServiceContext, job_id: int, after: int, sub: Subscription, max_s: float
) -> AsyncIterator[str]:
    """Frames until the job ends (``end``), or ``close`` with a reason: the stream's
    maximum lifetime passed, its token was revoked, or the service stops."""
    store = ctx.store
    deadline = time.monotonic() + max_s
    last_state = ""
    settled = False
    with sub:
        yield "retry: 1000\n\n"
        while True:
            try:
                job = await store.jobs.get(job_id, tasks=False, outputs=False)
                events = await store.jobs.events(job_id, after_id=after, limit=PAGE)
            except DatabaseUnavailable as exc:
                log.warning("event stream: store unavailable", job_id=job_id, error=str(exc))
                await sub.wait(1.0)
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
            if len(events) == PAGE:
                continue
            if job.finished:
                if settled or ctx.stopping.is_set():
                    yield _frame("end", {"state": job.state})
                    return
                settled = True  # one more poll: workers flush their last events just after
                await sub.hub.next_poll()
                continue
            # Sleep until the job changes; keepalives meanwhile.
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    yield _frame("close", {"reason": "max_lifetime", "state": job.state})
                    return
                woke = await sub.wait(min(KEEPALIVE_S, left))
                if sub.revoked:
                    yield _frame("close", {"reason": "token_revoked", "state": job.state})
                    return
                if ctx.stopping.is_set():
                    return
                if woke:
                    break
                if time.monotonic() < deadline:
                    yield ": keepalive\n\n"


@router.get(
    "/jobs/{job_id}/events/stream",
    summary="Live server-sent events of a job; ends when the job finishes",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"text/event-stream": {"schema": {"type": "string"}}}},
        **responses(404, 429),
    },
)
async def job_event_stream(
    request: Request,
    principal: Viewer,
    job_id: JobId,
    after: Annotated[int, Query(ge=0, le=2**62)] = 0,
    last_event_id: Annotated[str | None, Header(max_length=32)] = None,
) -> StreamingResponse:
    await store_of(request).jobs.get(job_id, tasks=False, outputs=False)  # 404 before streaming
    if last_event_id and last_event_id.strip().isdigit():
        after = max(after, int(last_event_id.strip()))
    ctx = context(request)
    hub: StreamHub = request.app.state.stream_hub
    service = ctx.settings.service
    limit = service.event_streams_per_token
    hub.check_limit(principal.name, limit)  # 429 before streaming
    return StreamingResponse(
        _guarded(ctx, hub, principal, limit, job_id, after, service.event_stream_max_seconds),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )

"""``/healthz`` (alive), ``/readyz`` (database and schema ready, every embedded loop up:
workers, scheduler, housekeeping ...), ``/metrics``.

These three need no token: load balancers and Prometheus scrape them.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from netfleet.api.context import context
from netfleet.api.metrics import MetricsCache
from netfleet.api.problems import problem_response
from netfleet.core.errors import NetfleetError

router = APIRouter(tags=["health"])
NO_WORKERS = (
    "no embedded workers: jobs run, schedules fire and expired leases are recovered in "
    "`netfleet worker` processes"
)


@router.get("/healthz", summary="The process is alive")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz",
    summary="Database reachable, migrations current, embedded loops up (503 problem otherwise)",
    responses={503: {"description": "Not ready", "content": {"application/problem+json": {}}}},
)
async def readyz(request: Request) -> JSONResponse:
    ctx = context(request)
    try:
        current = await ctx.store.metrics.current_revision()
    except NetfleetError as exc:
        return problem_response(
            503, f"database unreachable: {exc.message}", instance="/readyz", kind="not_ready"
        )
    head = request.app.state.schema_head
    if current != head:
        return problem_response(
            503,
            f"database schema is at {current or 'nothing'}, this version needs {head}",
            instance="/readyz",
            kind="not_ready",
        )
    down = ctx.runtime.down() if ctx.runtime is not None else {}
    if down:
        names = "; ".join(f"{name} ({why[:200]})" for name, why in sorted(down.items()))
        return problem_response(
            503,
            f"embedded components down, restarting: {names}",
            instance="/readyz",
            kind="not_ready",
        )
    body: dict[str, object] = {"status": "ready", "schema": current, "database": ctx.store.dialect}
    if ctx.runtime is not None:
        body["components"] = ctx.runtime.components()
        body["embedded_workers"] = ctx.runtime.worker_count
        if not ctx.runtime.worker_count:
            body["note"] = NO_WORKERS
    return JSONResponse(body)


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}},
)
async def metrics(request: Request) -> Response:
    cache: MetricsCache = request.app.state.metrics_cache
    await cache.refresh()
    body = generate_latest(request.app.state.metrics_registry)
    return Response(body, media_type=CONTENT_TYPE_LATEST)

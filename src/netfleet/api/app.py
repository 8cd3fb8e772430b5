"""The FastAPI application factory.

``create_app(store, settings, runtime=None)`` builds a complete app on an open,
migrated store: REST API under ``/api/v1``, ``/healthz``, ``/readyz``,
``/metrics``, the OpenAPI document at ``/api/openapi.json`` and a
self-contained docs page at ``/api/docs`` (no CDN assets).
"""

from __future__ import annotations

import html
from collections import Counter
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse

from netfleet import __version__
from netfleet.api import (
    routes_admin,
    routes_changes,
    routes_configs,
    routes_credentials,
    routes_devices,
    routes_events,
    routes_group_credentials,
    routes_health,
    routes_jobs,
    routes_notifications,
    routes_raw,
    routes_schedules,
    routes_sources,
    routes_workers,
)
from netfleet.api.auth import TokenCache, new_throttle
from netfleet.api.context import Runtime, ServiceContext
from netfleet.api.metrics import MetricsCache, build_registry
from netfleet.api.middleware import ServiceMiddleware
from netfleet.api.problems import PROBLEM_RESPONSES, install_handlers
from netfleet.core.settings import Settings
from netfleet.store import SqlStore
from netfleet.store.progress import StreamHub

API_PREFIX = "/api/v1"
DESCRIPTION = """\
Run CLI commands and configuration on fleets of network devices.

Authenticate with `Authorization: Bearer <token>`. Roles: **viewer** reads;
**operator** also submits command jobs, cancels and reruns; **admin** also submits
config jobs and manages devices, credentials, schedules, tokens and the audit log.
Errors are RFC 9457 `application/problem+json` documents; validation errors list
each bad field in `errors`. Lists are paginated with `limit` and `cursor`
(pass back `next_cursor`).
"""


def create_app(
    store: SqlStore,
    settings: Settings,
    *,
    runtime: Runtime | None = None,
    metrics_max_age_s: float = 2.0,
) -> FastAPI:
    """A service app on ``store`` (open and migrated); ``runtime``: embedded workers."""
    ctx = ServiceContext(store=store, settings=settings, runtime=runtime)
    app = FastAPI(
        title="netfleet",
        version=__version__,
        description=DESCRIPTION,
        openapi_url="/api/openapi.json",
        docs_url=None,
        redoc_url=None,
    )
    app.state.netfleet = ctx
    app.state.tokens = TokenCache(store)
    app.state.auth_throttle = new_throttle(settings.service)
    app.state.stream_hub = StreamHub(
        store,
        poll_s=ctx.stream_poll_s,
        token_check_s=settings.service.event_stream_token_check_seconds,
        stopping=ctx.stopping,
    )
    app.state.unauthenticated = Counter[str]()
    app.state.schema_head = store.metrics.head_revision()
    cache = MetricsCache(ctx, max_age_s=metrics_max_age_s)
    app.state.metrics_cache = cache
    app.state.metrics_registry = build_registry(cache, app.state.unauthenticated)
    install_handlers(app)

    api = APIRouter(prefix=API_PREFIX, responses=PROBLEM_RESPONSES)
    for module in (
        routes_devices,
        routes_credentials,
        routes_group_credentials,
        routes_jobs,
        routes_raw,
        routes_configs,
        routes_events,
        routes_schedules,
        routes_workers,
        routes_admin,
        routes_notifications,
        routes_sources,
        routes_changes,
    ):
        api.include_router(module.router)
    app.include_router(api)
    app.include_router(routes_health.router)

    @app.get("/api/docs", include_in_schema=False)
    async def docs(request: Request) -> HTMLResponse:
        return HTMLResponse(render_docs(request.app.openapi()))

    async def audit(entry: dict[str, Any]) -> None:
        await store.audit.record(**entry)

    app.add_middleware(
        ServiceMiddleware,
        max_body=settings.service.max_request_bytes,
        audit=audit,
    )
    return app


def render_docs(schema: dict[str, Any]) -> str:
    """A plain HTML page listing every operation of ``schema`` (no scripts, no CDN)."""
    rows = []
    for path, ops in schema.get("paths", {}).items():
        for method, op in ops.items():
            params = ", ".join(
                f"{p['name']} ({p['in']})" for p in op.get("parameters", []) if "name" in p
            )
            rows.append(
                "<tr><td><code>{}</code></td><td><code>{}</code></td><td>{}</td>"
                "<td>{}</td><td>{}</td></tr>".format(
                    method.upper(),
                    html.escape(path),
                    html.escape(op.get("summary", "")),
                    html.escape(", ".join(op.get("tags", []))),
                    html.escape(params),
                )
            )
    info = schema.get("info", {})
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>{html.escape(info.get('title', 'API'))} API</title>"
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}"
        "</style></head><body>"
        f"<h1>{html.escape(info.get('title', ''))} {html.escape(info.get('version', ''))}</h1>"
        f"<pre>{html.escape(info.get('description', ''))}</pre>"
        "<p>Machine-readable schema: <a href='/api/openapi.json'>/api/openapi.json</a></p>"
        "<table><tr><th>Method</th><th>Path</th><th>Summary</th><th>Tag</th>"
        "<th>Parameters</th></tr>" + "".join(rows) + "</table></body></html>"
    )

"""``mount_dashboard``: add the dashboard (pages, live stream, static files) to an app."""

from __future__ import annotations

import asyncio

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from netfleet.core.settings import Settings
from netfleet.store import SqlStore
from netfleet.web import (
    routes_auth,
    routes_changes,
    routes_configs,
    routes_inventory,
    routes_jobs,
    routes_new_job,
    routes_notifications,
    routes_overview,
    routes_prefs,
    stream,
)
from netfleet.web.auth import (
    LoginRequired,
    PageError,
    audit_action,
    current_user,
    login_redirect,
)
from netfleet.web.context import PREFIX, Dashboard, dashboard
from netfleet.web.render import STATIC, page


async def _login_required(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, LoginRequired)
    return login_redirect(dashboard(request), exc.next_url)


async def _page_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, PageError)
    user = await current_user(request)
    if request.method == "POST" and user is not None:
        await audit_action(request, user, exc.status, {"refused": exc.message})
    return page(
        request,
        "error.html",
        {"status": exc.status, "message": exc.message},
        user=user,
        status=exc.status,
    )


def mount_dashboard(
    app: FastAPI,
    store: SqlStore | None = None,
    settings: Settings | None = None,
    *,
    stopping: asyncio.Event | None = None,
    prefix: str = PREFIX,
) -> None:
    """Serve the dashboard under ``prefix`` (``/ui``) on ``app``, reading ``store``.

    ``mount_dashboard(app)`` alone takes the store, settings and shutdown event from the
    service context the app factory leaves in ``app.state.netfleet`` (so it can be passed
    as a plain ``Callable[[FastAPI], object]`` hook). Sign-in uses the API's tokens
    (``service.auth``); ``stopping``, once set, ends live streams. ``/`` redirects to the
    dashboard unless ``app`` has a route there already. The dashboard's state (a
    ``Dashboard``) is ``app.state.dashboard``."""
    service = getattr(app.state, "netfleet", None)
    store = store if store is not None else getattr(service, "store", None)
    settings = settings if settings is not None else getattr(service, "settings", None)
    if stopping is None:
        stopping = getattr(service, "stopping", None)
    if store is None or settings is None:
        raise TypeError("mount_dashboard needs a store and settings (or app.state.netfleet)")
    board = Dashboard(store=store, settings=settings, prefix=prefix, stopping=stopping)
    app.state.dashboard = board
    routers = (
        routes_auth,
        routes_prefs,
        routes_overview,
        routes_new_job,  # before routes_jobs: /jobs/new is not a job id
        routes_changes,
        routes_jobs,
        routes_inventory,
        routes_configs,
        routes_notifications,
        stream,
    )
    for module in routers:
        app.include_router(module.router, prefix=prefix, include_in_schema=False)
    app.mount(f"{prefix}/static", StaticFiles(directory=STATIC), name="dashboard-static")
    app.add_exception_handler(LoginRequired, _login_required)
    app.add_exception_handler(PageError, _page_error)

    if not any(getattr(r, "path", None) == "/" for r in app.routes):

        @app.get("/", include_in_schema=False)
        async def root() -> RedirectResponse:
            return RedirectResponse(f"{prefix}/", status_code=307)

    @app.get(prefix, include_in_schema=False)
    async def bare_prefix() -> RedirectResponse:
        return RedirectResponse(f"{prefix}/", status_code=307)

    @app.get(prefix + "/{rest:path}", include_in_schema=False)
    async def unknown_page(rest: str) -> Response:
        raise PageError(404, f"no dashboard page at {prefix}/{rest}")

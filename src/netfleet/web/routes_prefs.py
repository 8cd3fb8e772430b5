"""Preferences kept in the browser: the time zone times are shown in."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from netfleet.web.auth import PageError, check_post, is_https, require_user, safe_next
from netfleet.web.context import User, dashboard
from netfleet.web.render import page
from netfleet.web.timezones import ZONE_COOKIE, valid_zone, zone_names

router = APIRouter()
CurrentUser = Annotated[User, Depends(require_user)]

ONE_YEAR_S = 366 * 86_400


@router.post("/prefs/timezone")
async def set_timezone(request: Request, user: CurrentUser) -> Response:
    """Show times in the posted ``timezone`` (an IANA name), then go back to ``next``."""
    board = dashboard(request)
    form = await request.form()
    check_post(request, form, user, "viewer")
    zone = valid_zone(str(form.get("timezone", "")).strip())
    if zone is None:
        raise PageError(400, "unknown time zone: use an IANA name such as Europe/Berlin or UTC")
    response = RedirectResponse(safe_next(board, form.get("next")), status_code=303)
    response.set_cookie(
        ZONE_COOKIE,
        zone,
        max_age=ONE_YEAR_S,
        httponly=True,
        samesite="strict",
        secure=is_https(request),
        path=board.prefix,
    )
    return response


@router.get("/prefs")
async def prefs(request: Request, user: CurrentUser) -> Response:
    """The preferences page: pick the time zone (UTC, the browser's, or any IANA zone)."""
    next_url = safe_next(dashboard(request), request.query_params.get("next"))
    return page(request, "prefs.html", {"zones": zone_names(), "next_url": next_url}, user=user)

"""Devices (filters, keyset pages, recent tasks) and schedules (pause/resume for admins)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from netfleet.core.errors import NotFound
from netfleet.platforms import known_platforms
from netfleet.store.records import DeviceRecord
from netfleet.web import params
from netfleet.web.auth import PageError, audit_action, check_post, require_user
from netfleet.web.configs_source import config_history
from netfleet.web.context import User, dashboard
from netfleet.web.render import page

router = APIRouter()
CurrentUser = Annotated[User, Depends(require_user)]

DEVICES_PAGE = 100
DEVICE_TASKS = 50
DEVICE_VERSIONS = 10


def name_glob(text: str) -> str | None:
    """A glob as typed, or ``*text*`` for plain text (substring match)."""
    if not text:
        return None
    return text if any(c in text for c in "*?[") else f"*{text}*"


@router.get("/devices")
async def devices(request: Request, user: CurrentUser) -> Response:
    board = dashboard(request)
    store = board.store
    name = params.text(request, "name")
    group = params.text(request, "group")
    platform = params.text(request, "platform")
    tag = params.text(request, "tag")
    cursor = params.integer(request, "cursor", None, lo=0)
    result = await store.devices.list(
        groups=(group,) if group else (),
        tags=(tag,) if tag else (),
        platform=platform or None,
        name_glob=name_glob(name),
        limit=DEVICES_PAGE,
        cursor=cursor,
    )
    items: tuple[DeviceRecord, ...] = result.items
    latest = await store.reads.latest_tasks([d.id for d in items])
    groups = board.cached("groups")
    if not isinstance(groups, list):
        groups = await store.devices.groups()
        board.remember("groups", groups)
    return page(
        request,
        "devices.html",
        {
            "devices": items,
            "latest": latest,
            "next_cursor": result.next_cursor,
            "cursor": cursor,
            "name": name,
            "group": group,
            "platform": platform,
            "tag": tag,
            "groups": groups,
            "platforms": sorted(known_platforms()),
        },
        user=user,
    )


@router.get("/devices/{name:path}")
async def device_detail(request: Request, user: CurrentUser, name: str) -> Response:
    store = dashboard(request).store
    try:
        device = await store.devices.get(name)
    except NotFound:
        raise PageError(404, f"device {name!r} not found") from None
    before = params.integer(request, "before", None, lo=1)
    tasks = await store.reads.device_tasks(device.id, limit=DEVICE_TASKS, before_id=before)
    sessions = await store.pages.device_sessions(device.id)
    history = await config_history(store, device.name, limit=DEVICE_VERSIONS)
    return page(
        request,
        "device.html",
        {
            "device": device,
            "spec": device.spec,
            "tasks": tasks,
            "before": before,
            "older": tasks[-1].id if len(tasks) == DEVICE_TASKS else None,
            "sessions": sessions,
            "history": history,
        },
        user=user,
    )


@router.get("/schedules")
async def schedules(request: Request, user: CurrentUser) -> Response:
    store = dashboard(request).store
    items = await store.schedules.list()
    notice = {
        "paused": "Schedule paused.",
        "resumed": "Schedule resumed.",
        "created": "Schedule created.",
    }.get(request.query_params.get("notice", ""), "")
    return page(request, "schedules.html", {"schedules": items, "notice": notice}, user=user)


async def _set_enabled(request: Request, user: User, schedule_id: int, enabled: bool) -> Response:
    board = dashboard(request)
    form = await request.form()
    check_post(request, form, user, "admin")
    try:
        await board.store.schedules.set_enabled(schedule_id, enabled)
    except NotFound:
        raise PageError(404, f"schedule {schedule_id} not found") from None
    notice = "resumed" if enabled else "paused"
    await audit_action(request, user, 200, {"schedule_id": schedule_id, "result": notice})
    return RedirectResponse(board.url(f"/schedules?notice={notice}"), status_code=303)


@router.post("/schedules/{schedule_id}/pause")
async def pause(request: Request, user: CurrentUser, schedule_id: int) -> Response:
    return await _set_enabled(request, user, schedule_id, False)


@router.post("/schedules/{schedule_id}/resume")
async def resume(request: Request, user: CurrentUser, schedule_id: int) -> Response:
    return await _set_enabled(request, user, schedule_id, True)

"""Configuration backups: status (failed, stale) and search across the latest configs,
a device's versions, the text of one version, and diffs (side by side or unified).

Devices are named in the query (``?device=``), since device names may hold ``/``.
Without backups in the store (``store.configs``), every page says so.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from netfleet.core.errors import NotFound, ValidationError
from netfleet.web import params
from netfleet.web.auth import PageError, require_user
from netfleet.web.configs_source import ConfigStore, configs_of, side_by_side, unified_rows
from netfleet.web.context import User, dashboard
from netfleet.web.render import page

router = APIRouter()
CurrentUser = Annotated[User, Depends(require_user)]

VERSIONS_PAGE = 50
SEARCH_LIMIT = 500
STATUS_ROWS = 500
DEFAULT_STALE_HOURS = 24.0
MAX_TEXT = 2 * 1024 * 1024


def _configs(request: Request) -> ConfigStore:
    configs = configs_of(dashboard(request).store)
    if configs is None:
        raise PageError(404, "this server does not keep configuration backups")
    return configs


def _device(request: Request) -> str:
    name = params.text(request, "device")
    if not name:
        raise PageError(400, "name a device: ?device=NAME")
    return name


def _version(request: Request, name: str) -> int | None:
    raw = request.query_params.get(name, "").strip()
    if not raw or raw == "latest":
        return None
    value = params.integer(request, name, None, lo=1)
    if value is None:
        raise PageError(400, f"{name}: {raw[:20]!r} is not a version number")
    return value


def health(state: Any, now: float, stale_s: float) -> str:
    """``never``, ``failed``, ``stale`` or ``ok``, as the backups API says."""
    if state.attempt_at is None and state.latest_version is None:
        return "never"
    if state.ok is False:
        return "failed"
    if state.ok_at is None or now - state.ok_at > stale_s:
        return "stale"
    return "ok"


@router.get("/configs")
async def configs_home(request: Request, user: CurrentUser) -> Response:
    board = dashboard(request)
    configs = configs_of(board.store)
    query = params.text(request, "q")
    regex = request.query_params.get("regex") == "1"
    hits: list[Any] = []
    truncated = False
    search_error = ""
    counts = {"ok": 0, "failed": 0, "stale": 0, "never": 0}
    problems: list[tuple[str, Any]] = []
    stale_hours = float(getattr(getattr(board.settings, "backup", None), "stale_hours", 0) or 0)
    stale_hours = stale_hours or DEFAULT_STALE_HOURS
    if configs is not None:
        if query:
            try:
                found, truncated = await configs.search(query, regex=regex, limit=SEARCH_LIMIT)
                hits = list(found)
            except ValidationError as exc:
                search_error = exc.message
        now = await board.store.now()
        for state in await configs.status():
            kind = health(state, now, stale_hours * 3600.0)
            counts[kind] += 1
            if kind != "ok" and len(problems) < STATUS_ROWS:
                problems.append((kind, state))
    return page(
        request,
        "configs.html",
        {
            "available": configs is not None,
            "q": query,
            "regex": regex,
            "hits": hits,
            "truncated": truncated,
            "search_error": search_error,
            "counts": counts,
            "problems": problems,
            "stale_hours": stale_hours,
            "limit": SEARCH_LIMIT,
        },
        user=user,
    )


@router.get("/configs/history")
async def history(request: Request, user: CurrentUser) -> Response:
    configs = _configs(request)
    device = _device(request)
    before = params.integer(request, "before", None, lo=1)
    try:
        versions = list(await configs.list(device, limit=VERSIONS_PAGE, before=before))
    except NotFound as exc:
        raise PageError(404, exc.message) from None
    older = versions[-1].version if len(versions) == VERSIONS_PAGE else None
    return page(
        request,
        "config_history.html",
        {"device": device, "versions": versions, "before": before, "older": older},
        user=user,
    )


@router.get("/configs/version")
async def version_text(request: Request, user: CurrentUser) -> Response:
    configs = _configs(request)
    device = _device(request)
    number = _version(request, "v")
    try:
        found = await configs.get(device, "latest" if number is None else number)
    except NotFound as exc:
        raise PageError(404, exc.message) from None
    text = found.text or ""
    return page(
        request,
        "config_version.html",
        {
            "device": device,
            "v": found,
            "lines": text[:MAX_TEXT].splitlines(),
            "cut": len(text) > MAX_TEXT,
        },
        user=user,
    )


@router.get("/configs/diff")
async def diff(request: Request, user: CurrentUser) -> Response:
    configs = _configs(request)
    device = _device(request)
    view = params.choice(request, "view", ("side", "unified")) or "side"
    old_v, new_v = _version(request, "from"), _version(request, "to")
    try:
        old, new, result = await configs.diff(device, old_v, new_v)
    except NotFound as exc:
        raise PageError(404, exc.message) from None
    rows, cut = side_by_side(result.text) if view == "side" else ([], False)
    lines, cut_u = unified_rows(result.text) if view == "unified" else ([], False)
    versions = list(await configs.list(device, limit=VERSIONS_PAGE))
    return page(
        request,
        "config_diff.html",
        {
            "device": device,
            "old": old,
            "new": new,
            "diff": result,
            "view": view,
            "rows": rows,
            "lines": lines,
            "cut": cut or cut_u,
            "versions": versions,
            "first": old_v is None,
        },
        user=user,
    )

"""Notification rules and their delivery logs (read-only; rules are managed through the
API, CLI or TOML). Reads ``store.notifications`` when the store has it.

Targets are shown without secrets: a webhook URL only as scheme and host (Slack-style
URLs carry their key in the path), an SMTP target without its password.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from netfleet.core.errors import NotFound
from netfleet.web.auth import PageError, require_user
from netfleet.web.context import User, dashboard
from netfleet.web.render import page

router = APIRouter()
CurrentUser = Annotated[User, Depends(require_user)]

LOG_LINES = 200
SHOWN_TARGET_KEYS = ("to", "from", "host", "port", "starttls", "username", "channel")


def _notifications(request: Request) -> Any:
    found = getattr(dashboard(request).store, "notifications", None)
    if found is None:
        raise PageError(404, "this server has no notification rules")
    return found


def target_summary(target: dict[str, Any]) -> list[tuple[str, str]]:
    """What a rule sends to, without secrets: URLs cut to scheme and host."""
    out: list[tuple[str, str]] = []
    for key, value in sorted(target.items()):
        if key in ("url", "webhook_url"):
            parts = urlsplit(str(value))
            out.append((key, f"{parts.scheme}://{parts.hostname or ''}/…"))
        elif key in SHOWN_TARGET_KEYS:
            out.append((key, ", ".join(map(str, value)) if isinstance(value, list) else str(value)))
    return out


@router.get("/notifications")
async def rules(request: Request, user: CurrentUser) -> Response:
    notifications = _notifications(request)
    items = await notifications.list()
    backlog = await notifications.backlog()
    return page(
        request,
        "notifications.html",
        {"rules": items, "backlog": backlog, "targets": target_summary},
        user=user,
    )


@router.get("/notifications/{rule_id}")
async def rule_log(request: Request, user: CurrentUser, rule_id: int) -> Response:
    notifications = _notifications(request)
    try:
        rule = await notifications.get(rule_id)
    except NotFound as exc:
        raise PageError(404, exc.message) from None
    log = await notifications.log(rule.id, limit=LOG_LINES)
    return page(
        request,
        "notification.html",
        {"rule": rule, "log": log, "targets": target_summary, "limit": LOG_LINES},
        user=user,
    )

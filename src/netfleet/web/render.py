"""Rendering pages: the Jinja2 environment (autoescape on), filters, security headers."""

from __future__ import annotations

import hashlib
import time
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, pass_context
from jinja2.runtime import Context

from netfleet import __version__
from netfleet.jobs.model import TaskCounts
from netfleet.store.records import JobRecord
from netfleet.web.auth import csrf_token
from netfleet.web.configs_source import unified_rows
from netfleet.web.context import User, dashboard
from netfleet.web.timezones import format_time, user_zone

HERE = Path(__file__).parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
"""Every dashboard page: no inline scripts or styles, no framing, never cached."""


def when(value: float | datetime | None) -> str:
    """An epoch time or datetime as ``YYYY-MM-DD HH:MM:SS`` UTC; ``—`` for None."""
    if value is None:
        return "—"
    if isinstance(value, datetime):
        value = value.timestamp()
    return datetime.fromtimestamp(value, UTC).strftime("%Y-%m-%d %H:%M:%S")


@pass_context
def when_in_zone(ctx: Context, value: float | datetime | None) -> str:
    """``when``, in the zone the user chose (``tz`` of the page; UTC by default)."""
    return format_time(value, str(ctx.get("tz") or "UTC"))


def parsed_columns(rows: list[Any]) -> list[str]:
    """The columns of parsed rows: every key, in first-seen order (rows may differ)."""
    seen: dict[str, None] = {}
    for row in rows[:500]:
        if isinstance(row, dict):
            seen.update(dict.fromkeys(str(k) for k in row))
    return list(seen)


def diff_rows(text: str) -> list[tuple[str, str]]:
    """(class, line) per line of a unified diff, for highlighting."""
    return unified_rows(text)[0]


def local(value: datetime | None, zone_name: str) -> str:
    """An aware datetime as wall time in the IANA zone ``zone_name`` (``HH:MM`` + date)."""
    if value is None:
        return "—"
    try:
        return value.astimezone(ZoneInfo(zone_name)).strftime("%Y-%m-%d %H:%M")
    except (ZoneInfoNotFoundError, ValueError):
        return when(value)


def duration(seconds: float | None) -> str:
    """A short human duration: ``850 ms``, ``12.3 s``, ``4 min 3 s``, ``2 h 5 min``."""
    if seconds is None:
        return "—"
    seconds = max(0.0, float(seconds))
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 60:
        return f"{seconds:.1f} s"
    if seconds < 3600:
        return f"{int(seconds // 60)} min {int(seconds % 60)} s"
    if seconds < 86_400:
        return f"{int(seconds // 3600)} h {int(seconds % 3600 // 60)} min"
    return f"{int(seconds // 86_400)} d {int(seconds % 86_400 // 3600)} h"


def relative(value: float | datetime | None, now: float | None = None) -> str:
    """``5 s ago`` / ``in 3 min 0 s`` relative to now; ``—`` for None."""
    if value is None:
        return "—"
    if isinstance(value, datetime):
        value = value.timestamp()
    delta = value - (time.time() if now is None else now)
    if abs(delta) < 1:
        return "now"
    return f"in {duration(delta)}" if delta > 0 else f"{duration(-delta)} ago"


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f} %"


def job_title(job: JobRecord) -> str:
    """A job's name, or its first command/config line (+ how many more)."""
    if job.spec.name:
        return job.spec.name
    lines = job.spec.commands or job.spec.config
    more = f" (+{len(lines) - 1})" if len(lines) > 1 else ""
    return (lines[0][:80] if lines else "") + more


def job_target(job: JobRecord) -> str:
    t = job.spec.targets
    parts = []
    if t.devices:
        shown = ", ".join(t.devices[:3])
        parts.append(shown + (f" +{len(t.devices) - 3}" if len(t.devices) > 3 else ""))
    if t.groups:
        parts.append("groups " + ", ".join(t.groups[:3]))
    if t.filter:
        parts.append(f"filter {t.filter}")
    return "; ".join(parts)


def width(fraction: float | None) -> int:
    """A width class number 0..100 (CSS ``.wN``); any non-zero share shows at least 1."""
    if not fraction or fraction <= 0:
        return 0
    return max(1, min(100, round(fraction * 100)))


def progress(counts: TaskCounts) -> list[tuple[str, int, int]]:
    """Segments of a progress bar: (state, count, width class), non-empty states only.

    Widths are CSS classes, not inline styles: the page's CSP forbids inline styles."""
    total = counts.total or 1
    order = ("succeeded", "failed", "cancelled", "running", "retrying", "queued")
    values = counts.as_dict()
    return [(s, values[s], width(values[s] / total)) for s in order if values[s]]


@cache
def static_version() -> str:
    """A digest of the static files, appended to their URLs so browsers refetch on change."""
    h = hashlib.sha256(__version__.encode())
    for path in sorted(STATIC.iterdir()):
        if path.is_file():
            h.update(path.read_bytes())
    return h.hexdigest()[:10]


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        when=when_in_zone,
        utc=when,
        parsed_columns=parsed_columns,
        diff_rows=diff_rows,
        local=local,
        duration=duration,
        relative=relative,
        percent=percent,
        job_title=job_title,
        job_target=job_target,
        progress=progress,
        width=width,
    )
    env.globals["version"] = __version__
    return env


ENV = _environment()


def page(
    request: Request,
    template: str,
    context: dict[str, Any],
    *,
    user: User | None,
    status: int = 200,
) -> HTMLResponse:
    """Render ``template`` as a full page with the navigation, user and CSRF token."""
    board = dashboard(request)

    def url(path: str = "/", **query: Any) -> str:
        q = {k: v for k, v in query.items() if v not in (None, "", ())}
        return board.url(path) + (f"?{urlencode(q, doseq=True)}" if q else "")

    html = ENV.get_template(template).render(
        request_path=request.url.path,
        user=user,
        csrf=csrf_token(request) if user is not None else "",
        url=url,
        static=lambda name: f"{board.url('/static/')}{name}?v={static_version()}",
        auth_enabled=board.settings.service.auth,
        now=time.time(),
        tz=user_zone(request),
        **context,
    )
    return HTMLResponse(html, status_code=status, headers=SECURITY_HEADERS)

"""Lenient query-parameter parsing: a bad value means the default, never an error page."""

from __future__ import annotations

from fastapi import Request

MAX_TEXT = 255


def text(request: Request, name: str) -> str:
    """A trimmed text parameter ('' when absent or longer than ``MAX_TEXT``)."""
    value = request.query_params.get(name, "").strip()
    return value if len(value) <= MAX_TEXT else ""


def integer(
    request: Request, name: str, default: int | None, lo: int = 0, hi: int = 2**62
) -> int | None:
    """An integer parameter within ``lo..hi``; ``default`` when absent or malformed."""
    raw = request.query_params.get(name, "").strip()
    if not raw.isdigit() or len(raw) > 19:
        return default
    value = int(raw)
    return value if lo <= value <= hi else default


def choice(request: Request, name: str, allowed: tuple[str, ...]) -> str:
    """A parameter that must be one of ``allowed`` ('' otherwise)."""
    value = request.query_params.get(name, "").strip()
    return value if value in allowed else ""


def id_list(raw: str, limit: int) -> list[int]:
    """Comma-separated ids (at most ``limit``; malformed entries dropped)."""
    ids = []
    for part in raw.split(",")[:limit]:
        part = part.strip()
        if part.isdigit() and len(part) <= 19:
            ids.append(int(part))
    return ids

"""The time zone a user reads times in: a cookie set from the page footer, UTC by default."""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from functools import cache, lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from fastapi import Request

ZONE_COOKIE = "netfleet_tz"
MAX_ZONE = 64


@lru_cache(maxsize=256)
def _zone(name: str) -> tzinfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None


def valid_zone(name: object) -> str | None:
    """``name`` if it is a known IANA zone, else None."""
    if not isinstance(name, str) or not name or len(name) > MAX_ZONE:
        return None
    return name if _zone(name) is not None else None


def user_zone(request: Request) -> str:
    """The zone of this browser's cookie, or ``UTC``."""
    return valid_zone(request.cookies.get(ZONE_COOKIE)) or "UTC"


def format_time(value: float | datetime | None, zone_name: str = "UTC") -> str:
    """An epoch time or datetime as ``YYYY-MM-DD HH:MM:SS`` in ``zone_name``; ``—`` for None."""
    if value is None:
        return "—"
    if isinstance(value, datetime):
        value = value.timestamp()
    tz = _zone(zone_name) if zone_name != "UTC" else UTC
    return datetime.fromtimestamp(value, tz or UTC).strftime("%Y-%m-%d %H:%M:%S")


@cache
def zone_names() -> tuple[str, ...]:
    """IANA zone names to choose from (``Area/City`` ones and ``UTC``), sorted."""
    return tuple(sorted(z for z in available_timezones() if "/" in z or z == "UTC"))

"""Bearer-token authentication and role checks.

Roles are ordered: ``viewer`` (read) < ``operator`` (submit command jobs, cancel,
rerun) < ``admin`` (config jobs, devices, credentials, schedules, tokens, audit).
Tokens are verified against their SHA-256 in the database; a verified token is
cached for a few seconds (revoking through the API clears the cache at once).
With ``service.auth = false`` every request acts as ``anonymous`` admin.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from netfleet.api.context import context
from netfleet.api.problems import ProblemException
from netfleet.core.errors import NetfleetError
from netfleet.core.logging import get_logger
from netfleet.core.settings import ServiceSettings
from netfleet.core.throttle import FailureThrottle
from netfleet.store import SqlStore
from netfleet.store.sql.tokens import Role, TokenRecord, hash_token

log = get_logger(__name__)

RANK: dict[str, int] = {"viewer": 0, "operator": 1, "admin": 2}
CACHE_TTL_S = 5.0
TOUCH_EVERY_S = 60.0

bearer = HTTPBearer(auto_error=False, description="An API token: `Authorization: Bearer nf_...`")


@dataclass(frozen=True, slots=True)
class Principal:
    """Who makes a request."""

    name: str
    role: Role
    token_id: int | None = None

    def allows(self, role: Role) -> bool:
        return RANK[self.role] >= RANK[role]


class TokenCache:
    """Verified tokens by hash for ``CACHE_TTL_S``; throttles ``last_used_at`` updates."""

    def __init__(self, store: SqlStore) -> None:
        self._store = store
        self._hits: dict[str, tuple[float, TokenRecord]] = {}
        self._touched: dict[int, float] = {}

    def clear(self) -> None:
        self._hits.clear()

    async def verify(self, token: str) -> TokenRecord | None:
        digest = hash_token(token)
        now = time.monotonic()
        hit = self._hits.get(digest)
        if hit is not None and now - hit[0] < CACHE_TTL_S:
            return hit[1]
        record = await self._store.tokens.verify(token)
        if record is None:
            self._hits.pop(digest, None)
            return None
        if len(self._hits) > 10_000:
            self._hits.clear()
        self._hits[digest] = (now, record)
        if now - self._touched.get(record.id, -TOUCH_EVERY_S) >= TOUCH_EVERY_S:
            self._touched[record.id] = now
            try:
                await self._store.tokens.touch(record.id)
            except NetfleetError as exc:  # bookkeeping only: never fail the request for it
                log.warning("cannot record token use", error=str(exc))
        return record


def _unauthorized(detail: str) -> ProblemException:
    return ProblemException(
        401, detail, kind="unauthorized", headers={"WWW-Authenticate": 'Bearer realm="netfleet"'}
    )


def new_throttle(settings: ServiceSettings) -> FailureThrottle:
    """The per-app throttle of failed authentications (``service.auth_failure_*``)."""
    return FailureThrottle(
        limit=settings.auth_failure_limit,
        window_s=settings.auth_failure_window_seconds,
        max_keys=settings.auth_throttle_max_clients,
        max_good=settings.auth_throttle_max_clients,
    )


def client_address(request: Request) -> str:
    """The peer address (proxies' forwarding headers are not trusted)."""
    return request.client.host if request.client is not None else "unknown"


def count_unauthenticated(request: Request, reason: str) -> None:
    """Count a refused request in ``netfleet_api_unauthenticated_requests_total``."""
    counts: Counter[str] = request.app.state.unauthenticated
    counts[reason] += 1


def _too_many(request: Request, wait: int) -> ProblemException:
    count_unauthenticated(request, "throttled")
    return ProblemException(
        429,
        f"too many failed authentications from this address; retry in {wait} s",
        kind="too_many_requests",
        headers={"Retry-After": str(wait)},
    )


async def _verify(request: Request, credentials: HTTPAuthorizationCredentials | None) -> Principal:
    throttle: FailureThrottle = request.app.state.auth_throttle
    client = client_address(request)
    token = credentials.credentials.strip() if credentials is not None else ""
    if credentials is None or credentials.scheme.lower() != "bearer" or not token:
        wait = throttle.retry_after(client)
        if wait:
            raise _too_many(request, wait)
        throttle.failed(client)
        count_unauthenticated(request, "missing")
        raise _unauthorized("missing bearer token (Authorization: Bearer <token>)")
    digest = hash_token(token)
    wait = throttle.retry_after(client)
    if wait and not throttle.known_good(digest):
        raise _too_many(request, wait)
    cache: TokenCache = request.app.state.tokens
    record = await cache.verify(token)
    if record is None:
        throttle.failed(client)
        count_unauthenticated(request, "invalid")
        raise _unauthorized("invalid or revoked token")
    throttle.remember_good(digest)
    return Principal(record.name, record.role, record.id)


async def authenticate(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    """The request's principal; 401 without a valid token (unless auth is off), 429
    after too many failures from the client's address (``service.auth_failure_limit``)."""
    ctx = context(request)
    if not ctx.settings.service.auth:
        principal = Principal("anonymous", "admin")
    else:
        principal = await _verify(request, credentials)
    request.state.principal = principal
    return principal


def ensure_role(principal: Principal, role: Role, what: str) -> None:
    """403 unless ``principal`` has at least ``role``."""
    if not principal.allows(role):
        raise ProblemException(
            403,
            f"{what} needs the {role} role; token {principal.name!r} is {principal.role}",
            kind="forbidden",
        )


def require(role: Role) -> Callable[..., Awaitable[Principal]]:
    async def dependency(
        principal: Annotated[Principal, Depends(authenticate)], request: Request
    ) -> Principal:
        ensure_role(principal, role, f"{request.method} {request.url.path}")
        return principal

    return dependency


Viewer = Annotated[Principal, Depends(require("viewer"))]
Operator = Annotated[Principal, Depends(require("operator"))]
Admin = Annotated[Principal, Depends(require("admin"))]

"""Dashboard sign-in: an API token pasted once opens a server-side session.

Browsers cannot send a bearer header on navigation, so signing in with a token
creates a session (``store.sessions``): a random id, stored only as its SHA-256,
that ends after ``service.session_lifetime_seconds``, after
``service.session_idle_seconds`` without a request, at logout, or when its token is
revoked. The browser holds only the id, in a ``SameSite=Strict``, ``HttpOnly``
cookie scoped to the dashboard path (``Secure`` over https); the token itself is
never stored in the browser. Each sign-in makes a new id (the old one ends).
Mutating forms carry a CSRF token (an HMAC of the session id under a per-process
secret) and must come from this origin. With ``service.auth = false`` everyone is
``anonymous`` admin, as in the API.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import secrets
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlsplit

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

from netfleet.core.errors import NetfleetError
from netfleet.core.logging import get_logger
from netfleet.core.throttle import FailureThrottle
from netfleet.store.sql.tokens import Role, hash_token
from netfleet.web.context import Dashboard, User, dashboard

log = get_logger(__name__)

SESSION_COOKIE = "netfleet_session"
LOGIN_COOKIE = "netfleet_login"
"""A random nonce tying the login form to this browser (login CSRF)."""
MAX_TOKEN_LENGTH = 512


class LoginRequired(Exception):
    """Not signed in: the handler redirects to the login page."""

    def __init__(self, next_url: str) -> None:
        super().__init__(next_url)
        self.next_url = next_url


class PageError(Exception):
    """An error page with an HTTP status (403 role, 403 CSRF, 404 ...)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _anonymous(board: Dashboard) -> bool:
    return not board.settings.service.auth


async def current_user(request: Request) -> User | None:
    """The signed-in user, or None (no session, or it ended: expired, idle, logged out,
    its token revoked)."""
    board = dashboard(request)
    if _anonymous(board):
        user: User | None = User("anonymous", "admin")
    else:
        session_id = request.cookies.get(SESSION_COOKIE, "")
        user = None
        if session_id:
            try:
                record = await board.store.sessions.find(
                    session_id, idle_s=board.settings.service.session_idle_seconds
                )
            except NetfleetError as exc:
                log.warning("cannot read the dashboard session", error=str(exc))
                record = None
            if record is not None:
                user = User(record.name, record.role, record.token_id)
    if user is not None:
        request.state.principal = user  # the service's request log names the token
    return user


async def require_user(request: Request) -> User:
    """FastAPI dependency: the signed-in user, else a redirect to the login page."""
    user = await current_user(request)
    if user is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequired(target)
    return user


def csrf_token(request: Request) -> str:
    """The CSRF token for this browser's session (stable while the session lasts)."""
    board = dashboard(request)
    session = request.cookies.get(SESSION_COOKIE, "") or "anonymous"
    return hmac.new(board.csrf_secret, session.encode(), hashlib.sha256).hexdigest()


def same_origin(request: Request) -> bool:
    """False when the browser says the request came from another origin."""
    origin = request.headers.get("origin") or request.headers.get("referer")
    if not origin:
        return True  # not a browser, or one that sends neither: the CSRF token decides
    if origin == "null":
        return False
    parts = urlsplit(origin)
    return parts.netloc == request.headers.get("host", request.url.netloc)


def check_post(request: Request, form: Mapping[str, object], user: User, role: Role) -> None:
    """Refuse a mutating form: foreign origin or bad CSRF token (403), too weak a role (403)."""
    sent = form.get("csrf")
    if (
        not same_origin(request)
        or not isinstance(sent, str)
        or not hmac.compare_digest(sent, csrf_token(request))
    ):
        raise PageError(403, "the form has expired or came from another site; reload and retry")
    if not user.allows(role):
        raise PageError(403, f"this needs the {role} role; you are signed in as {user.role}")


def safe_next(board: Dashboard, value: object) -> str:
    """A local dashboard URL to go to after login (never another site): a path under
    the dashboard prefix, without a scheme, host, backslash or control character."""
    if (
        isinstance(value, str)
        and value.startswith(board.prefix + "/")
        and not value.startswith("//")
        and "\\" not in value
        and len(value) < 2000
        and value.isprintable()
        and " " not in value
        and urlsplit(value).netloc == ""
    ):
        return value
    return board.url("/")


def login_redirect(board: Dashboard, next_url: str) -> RedirectResponse:
    target = board.url("/login")
    if next_url and next_url != board.url("/"):
        target += "?next=" + quote(next_url, safe="/")
    return RedirectResponse(target, status_code=303)


def new_login_nonce() -> str:
    return secrets.token_urlsafe(24)


def set_login_nonce(response: Response, board: Dashboard, nonce: str, secure: bool) -> None:
    response.set_cookie(
        LOGIN_COOKIE,
        nonce,
        httponly=True,
        samesite="strict",
        secure=secure,
        path=board.url("/login"),
        max_age=3600,
    )


async def sign_in(request: Request, token: str, nonce: str) -> tuple[User | None, str]:
    """Check the login form; returns the user (None on failure) and a message."""
    board = dashboard(request)
    cookie_nonce = request.cookies.get(LOGIN_COOKIE, "")
    if not cookie_nonce or not hmac.compare_digest(cookie_nonce, nonce):
        return None, "the login form expired; please try again"
    token = normalize_token(token)
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None, "paste an API token (nf_...)"
    throttle: FailureThrottle | None = getattr(request.app.state, "auth_throttle", None)
    client = request.client.host if request.client is not None else "unknown"
    if throttle is not None:
        wait = throttle.retry_after(client)
        if wait and not throttle.known_good(hash_token(token)):
            return None, f"too many failed sign-ins from this address; retry in {wait} s"
    record = await board.store.tokens.verify(token)
    if record is None:
        if throttle is not None:
            throttle.failed(client)
        return None, "invalid or revoked token"
    if throttle is not None:
        throttle.remember_good(hash_token(token))
    try:
        await board.store.tokens.touch(record.id)
    except NetfleetError as exc:  # bookkeeping only
        log.warning("cannot record token use", error=str(exc))
    return User(record.name, record.role, record.id), ""


def normalize_token(raw: str) -> str:
    """The token as pasted, without surrounding blanks or a ``Bearer`` prefix."""
    token = raw.strip()
    if token.lower().startswith("bearer "):
        token = token[7:].strip()
    return token


async def open_session(request: Request, response: Response, user: User) -> None:
    """Start a new session for ``user`` (ending the one the browser had: ids rotate at
    each sign-in) and set its cookie on ``response``."""
    board = dashboard(request)
    await end_session(request)
    if user.token_id is None:
        return
    lifetime = board.settings.service.session_lifetime_seconds
    session_id = await board.store.sessions.create(user.token_id, lifetime_s=lifetime)
    response.set_cookie(
        SESSION_COOKIE,
        session_id,
        httponly=True,
        samesite="strict",
        secure=is_https(request),
        path=board.prefix,
    )  # no Max-Age: it also ends with the browser
    response.delete_cookie(LOGIN_COOKIE, path=board.url("/login"))


async def end_session(request: Request) -> None:
    """End the browser's session on the server, if it has one (logout, new sign-in)."""
    session_id = request.cookies.get(SESSION_COOKIE, "")
    if session_id:
        try:
            await dashboard(request).store.sessions.end(session_id)
        except NetfleetError as exc:
            log.warning("cannot end the dashboard session", error=str(exc))


def clear_session(response: Response, board: Dashboard, secure: bool = False) -> None:
    response.delete_cookie(
        SESSION_COOKIE, path=board.prefix, httponly=True, samesite="strict", secure=secure
    )


def is_https(request: Request) -> bool:
    return request.url.scheme == "https"


async def audit_action(request: Request, user: User, status: int, detail: dict[str, Any]) -> None:
    """Record a dashboard action in the service's audit log (best effort: it happened)."""
    with contextlib.suppress(NetfleetError):
        await dashboard(request).store.audit.record(
            actor=user.name,
            role=user.role,
            method=request.method,
            path=request.url.path,
            status=status,
            detail={"via": "dashboard", **detail},
        )

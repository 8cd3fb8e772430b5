"""Translate asyncssh and OS exceptions into netfleet's exception tree."""

from __future__ import annotations

import asyncio
import re
import socket

import asyncssh

from netfleet.core.errors import (
    AuthenticationFailed,
    ConnectError,
    ConnectionLost,
    ConnectionRefused,
    ConnectTimeout,
    NetfleetError,
    SessionLimitReached,
)

BUSY_RE = re.compile(
    r"(?i)(all\s+(?:vty\s+)?lines\s+(?:are\s+)?busy"
    r"|too\s+many\s+(?:sessions|connections|users|logins)"
    r"|maximum\s+number\s+of\s+(?:\w+\s+)?(?:sessions|connections|users|logins)"
    r"|session\s+limit|connection\s+limit"
    r"|no\s+(?:free|available)\s+(?:vty|lines?|sessions?))"
)
"""Text by which a device says it refuses a session because its vty lines are all used."""


def is_busy_text(text: str) -> bool:
    return BUSY_RE.search(text) is not None


def translate(exc: BaseException, *, device: str, address: str, phase: str) -> NetfleetError:
    """The netfleet error for a library exception raised while ``phase`` was running."""
    if isinstance(exc, NetfleetError):
        return exc
    if isinstance(exc, asyncssh.PermissionDenied):
        return AuthenticationFailed(f"authentication failed at {address}", device=device)
    if isinstance(exc, asyncssh.KeyExchangeFailed):
        return ConnectError(
            f"no common SSH algorithm with {address} ({exc.reason}); "
            "the device may need legacy_algorithms=True",
            device=device,
        )
    if isinstance(exc, asyncssh.ChannelOpenError):
        if exc.code == asyncssh.OPEN_RESOURCE_SHORTAGE or is_busy_text(exc.reason):
            return SessionLimitReached(
                f"{address} refused a new session: {exc.reason or 'session limit reached'}",
                device=device,
            )
        return ConnectError(f"{address} refused to open a channel: {exc.reason}", device=device)
    if isinstance(exc, asyncssh.DisconnectError):
        reason = exc.reason or type(exc).__name__
        if exc.code == asyncssh.DISC_TOO_MANY_CONNECTIONS or is_busy_text(reason):
            return SessionLimitReached(f"{address} refused the session: {reason}", device=device)
        return ConnectionLost(
            f"{address} closed the connection during {phase}: {reason}", device=device
        )
    if isinstance(exc, (TimeoutError, asyncio.TimeoutError)):
        return ConnectTimeout(f"{phase} with {address} timed out", device=device)
    if isinstance(exc, ConnectionRefusedError):
        return ConnectionRefused(f"connection refused by {address}", device=device)
    if isinstance(exc, socket.gaierror):
        return ConnectionRefused(f"cannot resolve host of {address}: {exc.strerror}", device=device)
    if isinstance(exc, (ConnectionResetError, BrokenPipeError, ConnectionAbortedError)):
        return ConnectionLost(f"{address} reset the connection during {phase}", device=device)
    if isinstance(exc, OSError):
        text = exc.strerror or str(exc) or type(exc).__name__
        if phase == "tcp":
            return ConnectionRefused(f"cannot reach {address}: {text}", device=device)
        return ConnectionLost(
            f"connection to {address} failed during {phase}: {text}", device=device
        )
    if isinstance(exc, asyncssh.Error):
        return ConnectError(f"SSH error with {address} during {phase}: {exc.reason}", device=device)
    if isinstance(exc, (ValueError, asyncssh.KeyImportError)):
        return ConnectError(f"cannot connect to {address}: {exc}", device=device)
    return ConnectError(
        f"unexpected {type(exc).__name__} with {address} during {phase}: {exc}", device=device
    )

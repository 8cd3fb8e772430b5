"""Translate asyncssh and OS exceptions into netfleet's exception tree."""

from __future__ import annotations

import asyncio
import re
import socket

import asyncssh

from netfleet.core.descriptors import TOO_MANY_OPEN_FILES, exhausted_now, is_exhaustion
from netfleet.core.errors import (
    AuthenticationFailed,
    ConnectError,
    ConnectionLost,
    ConnectionRefused,
    ConnectTimeout,
    NetfleetError,
    ResourceExhausted,
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


def exhausted(*, device: str, address: str, phase: str) -> ResourceExhausted:
    """The error for a connect that failed because this process is out of descriptors."""
    return ResourceExhausted(
        f"cannot connect to {address} ({phase}): {TOO_MANY_OPEN_FILES} in this netfleet "
        "process; not a fault of the device, retried later",
        device=device,
    )


def translate(exc: BaseException, *, device: str, address: str, phase: str) -> NetfleetError:
    """The netfleet error for a library exception raised while ``phase`` was running.

    Descriptor exhaustion is ``ResourceExhausted``, also where a library hides it (an
    unreadable ``/etc/passwd`` is asyncssh's "Unknown local username" ``ValueError``):
    an error that names no cause of the device's is checked against the process."""
    if isinstance(exc, NetfleetError):
        return exc
    if is_exhaustion(exc):
        return exhausted(device=device, address=address, phase=phase)
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
    if isinstance(exc, (ConnectionResetError, BrokenPipeError, ConnectionAbortedError)):
        return ConnectionLost(f"{address} reset the connection during {phase}", device=device)
    if isinstance(exc, (OSError, ValueError)) and exhausted_now():  # gaierror: EAI_SYSTEM
        return exhausted(device=device, address=address, phase=phase)
    if isinstance(exc, socket.gaierror):
        return ConnectionRefused(f"cannot resolve host of {address}: {exc.strerror}", device=device)
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
    if exhausted_now():
        return exhausted(device=device, address=address, phase=phase)
    return ConnectError(
        f"unexpected {type(exc).__name__} with {address} during {phase}: {exc}", device=device
    )

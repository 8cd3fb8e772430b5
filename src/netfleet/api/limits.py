"""HTTP connection limits for ``netfleet serve`` that uvicorn does not enforce itself.

uvicorn closes idle keep-alive connections (``timeout_keep_alive``) and answers 503
above ``limit_concurrency``, but a connection that never completes its request
headers is held forever. ``guarded_protocol`` wraps uvicorn's HTTP protocol so that:

- every request's header block must arrive within ``header_seconds`` of the
  connection opening (or of the previous response ending), else it is closed;
- requests beyond ``max_connections`` open connections get uvicorn's 503
  (``limit_concurrency``); connections beyond that (and a few) are closed as soon
  as they are accepted.

``raise_nofile_limit`` lifts the soft descriptor limit to the hard one;
``connection_cap`` keeps ``FD_RESERVE`` descriptors free of connections, so a flood
never starves the embedded workers of files; and
``quiet_accept_errors`` logs the event loop's ``accept()`` failures (EMFILE) at
most once per interval instead of once per retry.
"""

from __future__ import annotations

import asyncio
import contextlib
import resource
import time
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from netfleet.core.logging import get_logger

log = get_logger(__name__)
_END_OF_HEADERS = b"\r\n\r\n"
_ANSWERED_503 = 16
"""Connections above the limit that still get uvicorn's 503 before new ones are closed."""


def guarded_protocol(*, header_seconds: float, max_connections: int) -> type[HttpToolsProtocol]:
    """uvicorn's httptools protocol with a header deadline and a connection cap."""

    class GuardedProtocol(HttpToolsProtocol):
        _nf_timer: asyncio.TimerHandle | None = None
        _nf_tail = b""

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            if len(self.connections) > max_connections + _ANSWERED_503:
                transport.abort()
                return
            self._nf_arm()

        def connection_lost(self, exc: Exception | None) -> None:
            self._nf_disarm()
            super().connection_lost(exc)

        def data_received(self, data: bytes) -> None:
            if self._nf_timer is not None:
                seen = self._nf_tail + data
                if _END_OF_HEADERS in seen:
                    self._nf_disarm()
                else:
                    self._nf_tail = seen[-3:]
            super().data_received(data)

        def on_response_complete(self) -> None:
            super().on_response_complete()
            if not self.transport.is_closing():
                self._nf_arm()

        def _nf_arm(self) -> None:
            self._nf_disarm()
            self._nf_tail = b""
            self._nf_timer = self.loop.call_later(header_seconds, self._nf_expire)

        def _nf_disarm(self) -> None:
            if self._nf_timer is not None:
                self._nf_timer.cancel()
                self._nf_timer = None

        def _nf_expire(self) -> None:
            self._nf_timer = None
            if self.cycle is None or self.cycle.response_complete:
                self.transport.close()  # no request in progress: nothing to answer

    return GuardedProtocol


FD_RESERVE = 160
"""Descriptors kept free of HTTP connections: the database, SSH sessions, logs, and the
up to 100 sockets the event loop accepts in one go before closing those over the cap."""


def connection_cap(max_connections: int, nofile_soft: int) -> int:
    """The connection limit to enforce: the setting, or less if descriptors are fewer."""
    return max(8, min(max_connections, nofile_soft - FD_RESERVE))


def raise_nofile_limit() -> tuple[int, int]:
    """Raise the soft ``RLIMIT_NOFILE`` to the hard limit; return (soft, hard) after."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != soft:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            soft = hard
    return soft, hard


class AcceptErrorLog:
    """An event-loop exception handler that logs accept failures once per interval."""

    def __init__(self, loop: asyncio.AbstractEventLoop, interval: float = 10.0) -> None:
        self._loop = loop
        self._interval = interval
        self._last = -interval
        self._suppressed = 0
        self._previous = loop.get_exception_handler()

    def __call__(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        message = str(context.get("message", ""))
        if "accept" not in message:
            if self._previous is not None:
                self._previous(loop, context)
            else:
                loop.default_exception_handler(context)
            return
        now = time.monotonic()
        if now - self._last < self._interval:
            self._suppressed += 1
            return
        exc = context.get("exception")
        log.warning(
            "cannot accept connections",
            error=str(exc or message),
            suppressed=self._suppressed,
            hint="too many open connections or files; idle ones are closed by the header deadline",
        )
        self._last = now
        self._suppressed = 0


def quiet_accept_errors(interval: float = 10.0) -> AcceptErrorLog:
    """Install ``AcceptErrorLog`` on the running loop."""
    loop = asyncio.get_running_loop()
    handler = AcceptErrorLog(loop, interval)
    loop.set_exception_handler(handler)
    return handler

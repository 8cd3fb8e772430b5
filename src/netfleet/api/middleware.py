"""The service's ASGI middleware: request size limit, request log, audit log, 500s.

One pure-ASGI layer (no buffering of responses, so event streams pass through):

- a body larger than ``service.max_request_bytes`` is refused with a 413 problem
  (by ``Content-Length``, or while reading a body sent without one);
- every request logs one line: method, path, status, duration, token name;
- every mutating ``/api/`` request by an authenticated caller is recorded in the
  audit log (who, what, status and a small ``detail`` a route may set in
  ``request.state.audit`` — never bodies); unauthenticated ones are only counted;
- an unexpected exception becomes a 500 problem without details (logged here).
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from netfleet.api.problems import PROBLEM_TYPE, problem_body
from netfleet.core.errors import NetfleetError
from netfleet.core.logging import cap, get_logger, redact_text

log = get_logger("netfleet.api.request")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
AuditSink = Callable[[dict[str, Any]], Awaitable[None]]

MUTATING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
MAX_LOGGED_PATH = 512
"""Request paths (and queries) longer than this are cut in the request and audit logs."""


class _TooLarge(Exception):
    pass


async def send_problem(send: Send, status: int, detail: str, path: str, kind: str) -> None:
    body = json.dumps(problem_body(status, detail, instance=path, kind=kind)).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", PROBLEM_TYPE.encode()),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class ServiceMiddleware:
    def __init__(self, app: ASGIApp, *, max_body: int, audit: AuditSink) -> None:
        self.app = app
        self.max_body = max_body
        self.audit = audit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        path: str = scope.get("path", "")
        logged_path = cap(path, MAX_LOGGED_PATH)
        method: str = scope.get("method", "GET")
        state: dict[str, Any] = scope.setdefault("state", {})
        status = 0

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            receive = await self._limited(scope, receive)
            await self.app(scope, receive, send_wrapper)
        except _TooLarge:
            status = 413
            await send_problem(
                send,
                413,
                f"the request body exceeds {self.max_body} bytes (service.max_request_bytes)",
                path,
                "request_too_large",
            )
        except Exception as exc:
            log.error(
                "unexpected error handling a request",
                method=method,
                path=logged_path,
                error_type=type(exc).__name__,
                exc_info=exc,
            )
            if status == 0:
                status = 500
                await send_problem(
                    send, 500, "internal error; see the server log", path, "internal_error"
                )
        finally:
            principal = state.get("principal")
            name = getattr(principal, "name", None)
            log.info(
                "request",
                method=method,
                path=logged_path,
                status=status,
                duration_ms=round((time.perf_counter() - started) * 1000, 2),
                token=name,
            )
            # Unauthenticated requests are counted (netfleet_api_unauthenticated_requests),
            # not audited one row each: a flood of them must not grow the audit log.
            if method in MUTATING and path.startswith("/api/") and principal is not None:
                await self._audit(scope, method, logged_path, status, state)

    async def _limited(self, scope: Scope, receive: Receive) -> Receive:
        """Refuse oversized bodies; without Content-Length, read (bounded) and replay."""
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length")
        if length is not None:
            try:
                size = int(length)
            except ValueError:
                size = -1
            if size > self.max_body:
                raise _TooLarge
            return receive
        if scope.get("method") not in MUTATING:
            return receive
        chunks: list[bytes] = []
        chunks_done: Message | None
        total = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                chunks_done = message
                break
            total += len(message.get("body", b""))
            if total > self.max_body:
                raise _TooLarge
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                chunks_done = None
                break
        replay: list[Message] = [{"type": "http.request", "body": b"".join(chunks)}]
        if chunks_done is not None:
            replay.append(chunks_done)

        async def replayed() -> Message:
            if replay:
                return replay.pop(0)
            return await receive()

        return replayed

    async def _audit(
        self, scope: Scope, method: str, path: str, status: int, state: dict[str, Any]
    ) -> None:
        principal = state.get("principal")
        detail: dict[str, Any] = {}
        query = scope.get("query_string", b"").decode("latin-1")
        if query:
            detail["query"] = redact_text(cap(query, MAX_LOGGED_PATH))
        extra = state.get("audit")
        if isinstance(extra, dict):
            detail.update(extra)
        entry = {
            "actor": getattr(principal, "name", "anonymous") if principal else "unauthenticated",
            "role": getattr(principal, "role", "") if principal else "",
            "method": method,
            "path": path,
            "status": status,
            "detail": detail or None,
        }
        try:
            await self.audit(entry)
        except NetfleetError as exc:
            log.warning("cannot write the audit log", error=str(exc), path=path)

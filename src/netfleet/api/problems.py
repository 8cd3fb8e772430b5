"""RFC 9457 problem details (``application/problem+json``) for every error response.

``NetfleetError`` subclasses map to statuses (``STATUS_BY_ERROR``); request
validation names each bad field in ``errors: [{field, message}]`` without echoing
the input (which may hold secrets); anything unexpected becomes a 500 whose body
says nothing about the cause (it is logged server-side).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from netfleet.core.errors import (
    Conflict,
    DatabaseUnavailable,
    Forbidden,
    InputError,
    LeaseLost,
    NetfleetError,
    NotFound,
    ScheduleError,
    TooManyStreams,
    UnknownPlatform,
)
from netfleet.core.logging import get_logger

log = get_logger(__name__)

PROBLEM_TYPE = "application/problem+json"
TYPE_PREFIX = "urn:netfleet:problem:"

STATUS_BY_ERROR: tuple[tuple[type[NetfleetError], int], ...] = (
    (Forbidden, 403),
    (TooManyStreams, 429),
    (InputError, 422),
    (NotFound, 404),
    (Conflict, 409),
    (LeaseLost, 409),
    (DatabaseUnavailable, 503),
)
"""First match wins; other netfleet errors are 500."""

_FIELD_PREFIX = re.compile(r"^([A-Za-z_][\w.\[\]]*): ")
_SCHEDULE_FIELD_PREFIX = re.compile(r"^([A-Za-z_][\w.\[\]]*)(?: '[^']*')?: ")
"""Schedules also name a field with its value: "cron '61 * * * *': field 1 ..."."""


class FieldError(BaseModel):
    field: str = Field(description="Dotted path of the offending field, e.g. 'targets.devices'.")
    message: str


class Problem(BaseModel):
    """An RFC 9457 problem document."""

    type: str = Field(description="'urn:netfleet:problem:<kind>' or 'about:blank'.")
    title: str
    status: int
    detail: str | None = None
    instance: str | None = Field(None, description="The request path.")
    kind: str | None = Field(None, description="Stable error kind, e.g. 'not_found'.")
    errors: list[FieldError] | None = None


class ProblemException(Exception):
    """Raise in a route to answer with a problem (for HTTP-level errors like 401/403/413)."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        kind: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.kind = kind
        self.headers = headers or {}


def problem_body(
    status: int,
    detail: str | None,
    *,
    instance: str | None = None,
    kind: str | None = None,
    errors: Sequence[dict[str, str]] | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": TYPE_PREFIX + kind if kind else "about:blank",
        "title": _title(status),
        "status": status,
        "detail": detail,
        "instance": instance,
    }
    if kind:
        body["kind"] = kind
    if errors is not None:
        body["errors"] = list(errors)
    return body


def problem_response(
    status: int,
    detail: str | None,
    *,
    instance: str | None = None,
    kind: str | None = None,
    errors: Sequence[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    return JSONResponse(
        problem_body(status, detail, instance=instance, kind=kind, errors=errors),
        status_code=status,
        media_type=PROBLEM_TYPE,
        headers=headers,
    )


def _title(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def status_for(error: NetfleetError) -> int:
    for cls, status in STATUS_BY_ERROR:
        if isinstance(error, cls):
            return status
    return 500


def field_errors_of(error: NetfleetError) -> list[dict[str, str]] | None:
    """A field named at the start of a validation message ('role: must be ...')."""
    if not isinstance(error, InputError):
        return None
    if isinstance(error, UnknownPlatform):
        return [{"field": "platform", "message": error.message}]
    text = error.message.removeprefix("invalid job: ")
    parent = ""
    if isinstance(error, ScheduleError) and text.startswith("job template: "):
        parent, text = "job.", text.removeprefix("job template: ").removeprefix("invalid job: ")
    prefix = _SCHEDULE_FIELD_PREFIX if isinstance(error, ScheduleError) else _FIELD_PREFIX
    match = prefix.match(text)
    if match is None:
        return [{"field": parent[:-1], "message": text}] if parent else []
    return [{"field": parent + match.group(1), "message": text[match.end() :]}]


def _location(loc: Sequence[int | str]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in ("body", "query", "path", "header"):
        parts = parts[1:] or parts
    return ".".join(parts) or "body"


async def _netfleet_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, NetfleetError)
    status = status_for(exc)
    if status >= 500 and not isinstance(exc, DatabaseUnavailable):
        log.error("request failed", path=request.url.path, kind=exc.kind, error=exc.message)
        return problem_response(
            status, "internal error; see the server log", instance=request.url.path
        )
    headers = {"Retry-After": "5"} if isinstance(exc, DatabaseUnavailable) else None
    return problem_response(
        status,
        exc.message,
        instance=request.url.path,
        kind=exc.kind,
        errors=field_errors_of(exc),
        headers=headers,
    )


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = list(exc.errors())
    if any(e.get("type") == "json_invalid" for e in errors):
        return problem_response(
            400, "the request body is not valid JSON", instance=request.url.path, kind="bad_json"
        )
    fields = [
        {"field": _location(e.get("loc", ())), "message": str(e.get("msg", "invalid"))}
        for e in errors[:50]
    ]
    summary = "; ".join(f"{f['field']}: {f['message']}" for f in fields[:5])
    return problem_response(
        422,
        f"invalid request: {summary}",
        instance=request.url.path,
        kind="validation_error",
        errors=fields,
    )


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else _title(exc.status_code)
    headers = dict(exc.headers) if exc.headers else {}
    if exc.status_code == 405:
        known = headers.pop("Allow", "") or headers.pop("allow", "")
        headers["Allow"] = ", ".join(allowed_methods(request, known))
    return problem_response(
        exc.status_code, detail, instance=request.url.path, headers=headers or None
    )


def allowed_methods(request: Request, known: str = "") -> list[str]:
    """Every method the API documents at this path, plus ``known`` (Starlette's ``Allow``,
    which names only one route's methods when several routes share a path)."""
    table: list[tuple[re.Pattern[str], set[str]]] | None = getattr(
        request.app.state, "allow_table", None
    )
    if table is None:
        table = []
        for template, item in request.app.openapi().get("paths", {}).items():
            parts = re.split(r"\{[^}]*\}", template)
            rx = re.compile("[^/]+".join(re.escape(p) for p in parts) + "$")
            table.append((rx, {m.upper() for m in item if m in _HTTP_METHODS}))
        request.app.state.allow_table = table
    methods = {m.strip() for m in known.split(",") if m.strip()}
    for rx, found in table:
        if rx.match(request.url.path):
            methods |= found
    return sorted(methods) or ["GET"]


_HTTP_METHODS = frozenset({"get", "put", "post", "delete", "patch", "head", "options"})


def document_bad_json(app: FastAPI) -> None:
    """Add the 400 ``bad_json`` problem to every operation with a request body."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = generate()
        for item in schema.get("paths", {}).values():
            for operation in item.values():
                if isinstance(operation, dict) and "requestBody" in operation:
                    operation.setdefault("responses", {}).setdefault(
                        "400",
                        {
                            "description": "The request body is not valid JSON",
                            "content": {PROBLEM_TYPE: {"schema": {"$ref": _PROBLEM_REF}}},
                        },
                    )
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


async def _problem(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ProblemException)
    return problem_response(
        exc.status, exc.detail, instance=request.url.path, kind=exc.kind, headers=exc.headers
    )


def install_handlers(app: FastAPI) -> None:
    """Answer every error of ``app`` with a problem document."""
    app.add_exception_handler(NetfleetError, _netfleet_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(ProblemException, _problem)
    document_bad_json(app)
    # Unexpected exceptions are answered by ``middleware.ServiceMiddleware`` (500 problem).


_PROBLEM_REF = "#/components/schemas/Problem"

PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": Problem, "content": {PROBLEM_TYPE: {}}, "description": text}
    for status, text in (
        (401, "Missing or invalid bearer token"),
        (403, "The token's role is not allowed to do this"),
        (422, "Invalid request (errors name each field)"),
        (503, "Database unavailable"),
    )
}
"""Error responses common to every /api/v1 route (for the OpenAPI document)."""


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for route-specific problem statuses (404, 409, ...)."""
    return {
        s: {"model": Problem, "content": {PROBLEM_TYPE: {}}, "description": _title(s)}
        for s in statuses
    }

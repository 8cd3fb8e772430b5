"""``/api/v1/devices`` and ``/api/v1/groups``: inventory CRUD, bulk import, filters."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import ValidationError as PydanticValidationError

from netfleet.api.auth import Admin, Viewer
from netfleet.api.context import context, store_of
from netfleet.api.importers import Parsed, parse_csv, parse_netfleet_yaml, parse_nornir
from netfleet.api.problems import ProblemException, responses
from netfleet.api.schemas_inventory import (
    DeviceFields,
    DeviceIn,
    DeviceOut,
    DevicePage,
    DevicePatch,
    GroupList,
    GroupOut,
    ImportIn,
    ImportResult,
)
from netfleet.core.errors import Conflict, NotFound, ValidationError
from netfleet.core.names import check_device_name
from netfleet.jobs.model import describe_pydantic_error
from netfleet.store import SqlStore
from netfleet.store.records import ImportReport

router = APIRouter(tags=["devices"])

DeviceName = Annotated[str, Query(min_length=1, max_length=255)]


async def _check_credentials(store: SqlStore, fields: DeviceFields) -> None:
    wanted = list(fields.credentials)
    if fields.jump_host is not None and fields.jump_host.credential:
        wanted.append(fields.jump_host.credential)
    if not wanted:
        return
    known = {c.name for c in await store.credentials.list()}
    unknown = [n for n in wanted if n not in known]
    if unknown:
        raise ValidationError(f"credentials: unknown credential(s) {', '.join(unknown)}")


async def _save(request: Request, name: str, fields: DeviceFields) -> DeviceOut:
    store = store_of(request)
    await _check_credentials(store, fields)
    record = await store.devices.upsert(fields.to_spec(name))
    context(request).retire([name])
    request.state.audit = {"device": name}
    return DeviceOut.of(record)


@router.get("/devices", response_model=DevicePage, summary="List devices")
async def list_devices(
    request: Request,
    _: Viewer,
    name: Annotated[str | None, Query(max_length=255, description="Glob, e.g. edge-*")] = None,
    group: Annotated[list[str] | None, Query(description="Member of any of these")] = None,
    tag: Annotated[list[str] | None, Query(description="Tagged with any of these")] = None,
    platform: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: Annotated[int | None, Query(ge=0, le=2**62)] = None,
) -> DevicePage:
    page = await store_of(request).devices.list(
        groups=group or (),
        tags=tag or (),
        platform=platform,
        name_glob=name,
        limit=limit,
        cursor=cursor,
    )
    return DevicePage(items=[DeviceOut.of(d) for d in page.items], next_cursor=page.next_cursor)


@router.post(
    "/devices",
    response_model=DeviceOut,
    status_code=201,
    summary="Create a device",
    responses=responses(409),
)
async def create_device(request: Request, _: Admin, body: DeviceIn) -> DeviceOut:
    store = store_of(request)
    try:
        await store.devices.get(body.name)
    except NotFound:
        return await _save(request, body.name, body)
    raise Conflict(f"device {body.name!r} exists already (PUT or PATCH it to change it)")


@router.get(
    "/devices/{name}", response_model=DeviceOut, summary="Show a device", responses=responses(404)
)
async def get_device(request: Request, _: Viewer, name: str) -> DeviceOut:
    return DeviceOut.of(await store_of(request).devices.get(name))


@router.put(
    "/devices/{name}",
    response_model=DeviceOut,
    summary="Create or replace a device",
    responses={201: {"model": DeviceOut, "description": "Created"}},
)
async def put_device(
    request: Request, response: Response, _: Admin, name: str, body: DeviceFields
) -> DeviceOut:
    check_device_name(name)
    try:
        await store_of(request).devices.get(name)
    except NotFound:
        response.status_code = 201
    return await _save(request, name, body)


@router.patch(
    "/devices/{name}",
    response_model=DeviceOut,
    summary="Change some fields of a device",
    responses=responses(404),
)
async def patch_device(request: Request, _: Admin, name: str, body: DevicePatch) -> DeviceOut:
    current = DeviceOut.of(await store_of(request).devices.get(name))
    merged: dict[str, Any] = current.fields().model_dump()
    merged.update(body.model_dump(exclude_unset=True, exclude_none=True))
    try:
        fields = DeviceFields.model_validate(merged)
    except PydanticValidationError as exc:
        raise ValidationError(describe_pydantic_error(exc).replace("invalid job: ", "")) from None
    return await _save(request, name, fields)


@router.delete(
    "/devices/{name}", status_code=204, summary="Delete a device", responses=responses(404, 409)
)
async def delete_device(request: Request, _: Admin, name: str) -> Response:
    await store_of(request).devices.delete(name)
    context(request).retire([name])
    request.state.audit = {"device": name}
    return Response(status_code=204)


_IMPORT_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": ImportIn.model_json_schema()},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "format": {"type": "string", "enum": ["netfleet", "nornir", "csv"]},
                        "file": {"type": "string", "format": "binary"},
                        "hosts": {"type": "string", "format": "binary"},
                        "groups": {"type": "string", "format": "binary"},
                        "defaults": {"type": "string", "format": "binary"},
                    },
                }
            },
            "text/csv": {"schema": {"type": "string"}},
            "application/yaml": {"schema": {"type": "string"}},
        },
    }
}


async def _form_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    data = await value.read()
    try:
        return bytes(data).decode("utf-8")
    except UnicodeDecodeError:
        raise ValidationError("file: not UTF-8 text") from None


async def _import_input(request: Request) -> ImportIn:
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype == "multipart/form-data":
        async with request.form() as form:
            fmt = await _form_text(form.get("format")) or "netfleet"
            upload = form.get("file")
            data = {
                "format": fmt,
                "filename": getattr(upload, "filename", None) or None,
                "text": await _form_text(upload or form.get("text")),
                "hosts": await _form_text(form.get("hosts")),
                "groups": await _form_text(form.get("groups")),
                "defaults": await _form_text(form.get("defaults")),
            }
        if fmt == "nornir" and data["hosts"] is None:
            data["hosts"] = data["text"]
            data["text"] = None
    elif ctype in ("text/csv", "application/yaml", "application/x-yaml", "text/yaml"):
        try:
            text = (await request.body()).decode("utf-8")
        except UnicodeDecodeError:
            raise ValidationError("body: not UTF-8 text") from None
        data = {"format": "csv" if ctype == "text/csv" else "netfleet", "text": text}
    elif ctype in ("application/json", ""):
        try:
            return ImportIn.model_validate_json(await request.body())
        except PydanticValidationError as exc:
            if any(e["type"] == "json_invalid" for e in exc.errors()):
                raise ProblemException(
                    400, "the request body is not valid JSON", kind="bad_json"
                ) from None
            raise ValidationError(
                describe_pydantic_error(exc).replace("invalid job: ", "")
            ) from None
    else:
        raise ProblemException(415, f"unsupported content type {ctype!r}", kind="unsupported")
    try:
        return ImportIn.model_validate(data)
    except PydanticValidationError as exc:
        raise ValidationError(describe_pydantic_error(exc).replace("invalid job: ", "")) from None


def _parse(body: ImportIn) -> Parsed:
    if body.format == "nornir":
        if not body.hosts:
            raise ValidationError("hosts: the Nornir hosts.yaml text is required")
        return parse_nornir(body.hosts, body.groups, body.defaults)
    if not body.text:
        raise ValidationError("text: the inventory document is required")
    if body.format == "csv":
        return parse_csv(body.text)
    return parse_netfleet_yaml(body.text, body.filename)


@router.post(
    "/devices/import",
    response_model=ImportResult,
    summary="Import devices (netfleet YAML, Nornir YAML, CSV) with a per-row report",
    openapi_extra=_IMPORT_BODY,
    responses=responses(400, 415),
)
async def import_devices(request: Request, _: Admin) -> ImportResult:
    body = await _import_input(request)
    parsed = await asyncio.to_thread(_parse, body)  # YAML/CSV parsing off the event loop
    store = store_of(request)
    report = (
        await store.devices.import_many(parsed.specs) if parsed.specs else ImportReport(rows=())
    )
    context(request).retire(r.name for r in report.rows if r.action == "updated")
    result = ImportResult.of(ImportReport(rows=(*report.rows, *parsed.errors)))
    request.state.audit = {
        "format": body.format,
        "created": result.created,
        "updated": result.updated,
        "errors": result.errors,
    }
    return result


@router.get("/groups", response_model=GroupList, summary="List groups with member counts")
async def list_groups(request: Request, _: Viewer) -> GroupList:
    groups = await store_of(request).devices.groups()
    return GroupList(items=[GroupOut(name=n, devices=c) for n, c in groups])

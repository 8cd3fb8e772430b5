"""``/api/v1/inventory/sources``: NetBox and Nautobot inventory sources.

A source is read through its REST API (``netfleet.integrations.netbox``); its token
(or a secret reference to it) is write-only. ``POST .../{name}/sync`` syncs now and
answers the report (added, updated, removed = disabled, skipped, each with its
reason); with ``interval_seconds`` the workers also sync it on that schedule.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field

from netfleet.api.auth import Admin, Operator, Viewer
from netfleet.api.context import store_of
from netfleet.api.problems import responses
from netfleet.core.errors import ValidationError
from netfleet.core.logging import register_secret
from netfleet.integrations.netbox import DeviceFilters, SourceConfig, SourceKind
from netfleet.store.records_integrations import NewSource, SourceRecord, SyncReportRecord
from netfleet.worker.source_sync import sync_source

router = APIRouter(tags=["inventory"])
MIN_INTERVAL_S = 60.0


class SourceIn(BaseModel):
    """A NetBox/Nautobot source (see ``netfleet.integrations.netbox.SourceConfig``)."""

    name: str = Field(min_length=1, max_length=255, pattern=r"^[A-Za-z0-9_.-]+$")
    kind: SourceKind = "netbox"
    url: str
    token: str = Field(repr=False, description="API token, or env:/file:/exec: reference.")
    filters: DeviceFilters = Field(default_factory=DeviceFilters)
    platform_map: dict[str, str] = Field(default_factory=dict)
    default_platform: str | None = None
    page_size: int = Field(1000, ge=1, le=10000)
    timeout_seconds: float = Field(30.0, gt=0)
    verify_tls: bool = True
    credentials: list[str] = Field(
        default_factory=list, description="Stored credentials given to the devices it adds."
    )
    interval_seconds: float | None = Field(
        None, description=f"Sync on this schedule (at least {MIN_INTERVAL_S:.0f} s); unset = off."
    )


class SourceOut(BaseModel):
    name: str
    kind: str
    config: dict[str, Any] = Field(description="Everything but the token.")
    has_token: bool = True
    interval_seconds: float | None
    next_sync_at: float | None
    last_sync_at: float | None
    created_at: float

    @classmethod
    def of(cls, r: SourceRecord) -> SourceOut:
        return cls(
            name=r.name,
            kind=r.kind,
            config=r.config,
            interval_seconds=r.interval_s,
            next_sync_at=r.next_sync_at,
            last_sync_at=r.last_sync_at,
            created_at=r.created_at,
        )


class SourceList(BaseModel):
    items: list[SourceOut]


class SyncReportOut(BaseModel):
    source: str
    ok: bool
    summary: str
    error: str | None
    requests: int = Field(description="HTTP requests made to the source.")
    started_at: float
    finished_at: float
    added: list[dict[str, Any]]
    updated: list[dict[str, Any]]
    removed: list[dict[str, Any]] = Field(description="Disabled (not deleted).")
    skipped: list[dict[str, Any]]
    unchanged: int

    @classmethod
    def of(cls, r: SyncReportRecord) -> SyncReportOut:
        rep = r.report
        return cls(
            source=r.source,
            ok=r.ok,
            summary=r.summary,
            error=r.error,
            requests=r.requests,
            started_at=r.started_at,
            finished_at=r.finished_at,
            added=list(rep.get("added", [])),
            updated=list(rep.get("updated", [])),
            removed=list(rep.get("removed", [])),
            skipped=list(rep.get("skipped", [])),
            unchanged=int(rep.get("unchanged", 0)),
        )


class SyncReportList(BaseModel):
    items: list[SyncReportOut]


@router.post(
    "/inventory/sources",
    response_model=SourceOut,
    status_code=201,
    summary="Add a NetBox or Nautobot inventory source (its token is write-only)",
    responses=responses(409),
)
async def create_source(
    request: Request, _: Admin, body: SourceIn, replace: bool = False
) -> SourceOut:
    if body.interval_seconds is not None and body.interval_seconds < MIN_INTERVAL_S:
        raise ValidationError(f"interval_seconds must be at least {MIN_INTERVAL_S:.0f}")
    config = body.model_dump(exclude={"name", "kind", "token", "interval_seconds"})
    source_fields = {k: v for k, v in config.items() if k != "credentials"}
    SourceConfig(name=body.name, kind=body.kind, token=body.token, **source_fields).check()
    store = store_of(request)
    known = {c.name for c in await store.credentials.list()}
    missing = [c for c in body.credentials if c not in known]
    if missing:
        raise ValidationError(f"credentials: unknown credential(s) {', '.join(missing)}")
    register_secret(body.token)
    record = await store.sources.create(
        NewSource(body.name, body.kind, config, body.token, body.interval_seconds),
        replace=replace,
    )
    request.state.audit = {"source": body.name}
    return SourceOut.of(record)


@router.get("/inventory/sources", response_model=SourceList, summary="List inventory sources")
async def list_sources(request: Request, _: Viewer) -> SourceList:
    return SourceList(items=[SourceOut.of(s) for s in await store_of(request).sources.list()])


@router.get(
    "/inventory/sources/{name}",
    response_model=SourceOut,
    summary="Show an inventory source",
    responses=responses(404),
)
async def get_source(request: Request, _: Viewer, name: str) -> SourceOut:
    return SourceOut.of(await store_of(request).sources.get(name))


@router.delete(
    "/inventory/sources/{name}",
    status_code=204,
    summary="Delete a source (its devices stay, managed by hand from now on)",
    responses=responses(404),
)
async def delete_source(request: Request, _: Admin, name: str) -> Response:
    await store_of(request).sources.delete(name)
    request.state.audit = {"source": name}
    return Response(status_code=204)


@router.post(
    "/inventory/sources/{name}/sync",
    response_model=SyncReportOut,
    summary="Sync a source now and report what changed",
    responses=responses(404),
)
async def sync_now(request: Request, _: Operator, name: str) -> SyncReportOut:
    report = await sync_source(store_of(request), name)
    request.state.audit = {"source": name, "ok": report.ok}
    return SyncReportOut.of(report)


@router.get(
    "/inventory/sources/{name}/reports",
    response_model=SyncReportList,
    summary="A source's sync reports, newest first",
    responses=responses(404),
)
async def sync_reports(
    request: Request, _: Viewer, name: str, limit: Annotated[int, Query(ge=1, le=1000)] = 20
) -> SyncReportList:
    store = store_of(request)
    record = await store.sources.get(name)
    return SyncReportList(
        items=[SyncReportOut.of(r) for r in await store.sources.reports(record.id, limit=limit)]
    )

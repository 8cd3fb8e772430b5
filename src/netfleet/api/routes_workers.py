"""``/api/v1/workers`` and ``/api/v1/sessions``: live workers and pooled sessions.

Session figures come from the embedded pool of ``netfleet serve`` (per device)
and from the pool totals every worker publishes with its heartbeat.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from netfleet.api.auth import Viewer
from netfleet.api.context import context
from netfleet.pool import DeviceStats
from netfleet.store.records import WorkerRecord

router = APIRouter(tags=["workers"])


class WorkerOut(BaseModel):
    id: str
    hostname: str
    pid: int
    state: str
    concurrency: int
    started_at: float
    heartbeat_at: float
    heartbeat_age_s: float
    alive: bool = Field(description="Heartbeat within the last lease period.")
    running: int
    utilisation: float = Field(description="running / concurrency")
    stats: dict[str, Any]

    @classmethod
    def of(cls, w: WorkerRecord, now: float, alive_s: float) -> WorkerOut:
        running = int(w.stats.get("running", 0) or 0)
        age = max(0.0, now - w.heartbeat_at)
        return cls(
            id=w.id,
            hostname=w.hostname,
            pid=w.pid,
            state=w.state,
            concurrency=w.concurrency,
            started_at=w.started_at,
            heartbeat_at=w.heartbeat_at,
            heartbeat_age_s=round(age, 3),
            alive=w.state != "stopped" and age <= alive_s,
            running=running,
            utilisation=round(running / w.concurrency, 4) if w.concurrency else 0.0,
            stats=w.stats,
        )


class WorkerList(BaseModel):
    items: list[WorkerOut]


class DeviceSessions(BaseModel):
    device: str
    sessions_open: int
    idle: int
    in_use: int
    opening: int
    waiting: int
    checkouts: int
    logins: int
    login_failures: int
    reuses: int
    reuse_rate: float
    evictions: dict[str, int]
    login_seconds_mean: float

    @classmethod
    def of(cls, s: DeviceStats) -> DeviceSessions:
        return cls(device=s.device, **s.summary())


class WorkerSessions(BaseModel):
    worker_id: str
    sessions_open: int
    checkouts: int
    logins: int
    reuses: int
    reuse_rate: float


class SessionTotals(BaseModel):
    sessions_open: int
    checkouts: int
    logins: int
    reuses: int
    reuse_rate: float


class SessionsOut(BaseModel):
    total: SessionTotals = Field(description="Summed over live workers' reported pools.")
    workers: list[WorkerSessions]
    embedded: SessionTotals | None = Field(description="This server's own pool, if any.")
    devices: list[DeviceSessions] = Field(description="Per device, from the embedded pool.")


def _alive_s(request: Request) -> float:
    w = context(request).settings.worker
    return max(w.lease_seconds, 3 * w.heartbeat_seconds)


@router.get("/workers", response_model=WorkerList, summary="Workers and their heartbeats")
async def list_workers(
    request: Request,
    _: Viewer,
    alive_within: Annotated[
        float | None, Query(ge=0, le=10**9, description="Only heartbeats this recent (s)")
    ] = None,
    all: Annotated[bool, Query(description="Include stopped workers")] = False,
) -> WorkerList:
    ctx = context(request)
    records = await ctx.store.workers.list(alive_within_s=alive_within)
    now = await ctx.store.now()
    items = [WorkerOut.of(w, now, _alive_s(request)) for w in records]
    if not all:
        items = [w for w in items if w.state != "stopped"]
    return WorkerList(items=items)


def _worker_sessions(w: WorkerRecord) -> WorkerSessions | None:
    pool = w.stats.get("pool")
    if not isinstance(pool, dict):
        return None
    checkouts = int(pool.get("checkouts", 0) or 0)
    reuses = int(pool.get("reuses", 0) or 0)
    return WorkerSessions(
        worker_id=w.id,
        sessions_open=int(pool.get("sessions_open", 0) or 0),
        checkouts=checkouts,
        logins=int(pool.get("logins", 0) or 0),
        reuses=reuses,
        reuse_rate=round(reuses / checkouts, 4) if checkouts else 0.0,
    )


def _totals(parts: list[WorkerSessions]) -> SessionTotals:
    checkouts = sum(p.checkouts for p in parts)
    reuses = sum(p.reuses for p in parts)
    return SessionTotals(
        sessions_open=sum(p.sessions_open for p in parts),
        checkouts=checkouts,
        logins=sum(p.logins for p in parts),
        reuses=reuses,
        reuse_rate=round(reuses / checkouts, 4) if checkouts else 0.0,
    )


@router.get("/sessions", response_model=SessionsOut, summary="Pooled sessions and reuse rate")
async def sessions(
    request: Request,
    _: Viewer,
    device: Annotated[str | None, Query(max_length=255, description="Only this device")] = None,
) -> SessionsOut:
    ctx = context(request)
    alive = _alive_s(request)
    records = await ctx.store.workers.list(alive_within_s=alive)
    per_worker = [s for w in records if w.state != "stopped" and (s := _worker_sessions(w))]
    embedded = None
    devices: list[DeviceSessions] = []
    stats = ctx.runtime.pool_stats() if ctx.runtime is not None else None
    if stats is not None:
        embedded = SessionTotals(**stats.total.summary())
        devices = [
            DeviceSessions.of(s)
            for name, s in sorted(stats.devices.items())
            if device is None or name == device
        ]
    return SessionsOut(
        total=_totals(per_worker), workers=per_worker, embedded=embedded, devices=devices
    )

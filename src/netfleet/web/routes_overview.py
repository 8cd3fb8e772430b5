"""The overview page (queue, workers, reuse, recent failures) and the workers page."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from netfleet.jobs.model import JOB_STATES, TASK_STATES, JobState
from netfleet.store.records import JobFilter, JobRecord, WorkerRecord
from netfleet.store.sql.pages import OverviewCounts
from netfleet.web.auth import require_user
from netfleet.web.context import Dashboard, User, dashboard
from netfleet.web.render import page

router = APIRouter()
ACTIVE_STATES: tuple[JobState, ...] = (
    "running",
    "queued",
    "halted",
    "awaiting_approval",
    "awaiting_window",
)
"""Jobs the overview lists as active: running, waiting, or held by a gate."""
CurrentUser = Annotated[User, Depends(require_user)]


@dataclass(frozen=True, slots=True)
class WorkerView:
    """A worker row: its record plus liveness and its pool's figures."""

    record: WorkerRecord
    alive: bool
    heartbeat_age_s: float
    running: int
    utilisation: float
    pool: dict[str, Any]

    @property
    def reuse_rate(self) -> float | None:
        checkouts = int(self.pool.get("checkouts", 0) or 0)
        return int(self.pool.get("reuses", 0) or 0) / checkouts if checkouts else None


@dataclass(frozen=True, slots=True)
class FleetTotals:
    """Sums over live workers."""

    alive: int
    running: int
    capacity: int
    sessions_open: int
    checkouts: int
    reuses: int
    logins: int

    @property
    def utilisation(self) -> float | None:
        return self.running / self.capacity if self.capacity else None

    @property
    def reuse_rate(self) -> float | None:
        return self.reuses / self.checkouts if self.checkouts else None


def worker_views(workers: list[WorkerRecord], now: float, alive_s: float) -> list[WorkerView]:
    views = []
    for w in workers:
        age = max(0.0, now - w.heartbeat_at)
        running = int(w.stats.get("running", 0) or 0)
        pool = w.stats.get("pool")
        views.append(
            WorkerView(
                record=w,
                alive=w.state != "stopped" and age <= alive_s,
                heartbeat_age_s=age,
                running=running,
                utilisation=running / w.concurrency if w.concurrency else 0.0,
                pool=pool if isinstance(pool, dict) else {},
            )
        )
    return views


def totals(views: list[WorkerView]) -> FleetTotals:
    live = [v for v in views if v.alive]

    def pool_sum(key: str) -> int:
        return sum(int(v.pool.get(key, 0) or 0) for v in live)

    return FleetTotals(
        alive=len(live),
        running=sum(v.running for v in live),
        capacity=sum(v.record.concurrency for v in live),
        sessions_open=pool_sum("sessions_open"),
        checkouts=pool_sum("checkouts"),
        reuses=pool_sum("reuses"),
        logins=pool_sum("logins"),
    )


async def _snapshot(board: Dashboard) -> OverviewCounts:
    """The overview's counts (from job counters and the newest tasks), cached briefly."""
    cached = board.cached("queue")
    if isinstance(cached, OverviewCounts):
        return cached
    snap = await board.store.pages.overview()
    board.remember("queue", snap)
    return snap


@router.get("/")
async def overview(request: Request, user: CurrentUser) -> Response:
    board = dashboard(request)
    store = board.store
    snap = await _snapshot(board)
    now = await store.now()
    views = worker_views(await store.workers.list(alive_within_s=board.alive_s), now, board.alive_s)
    failures: tuple[JobRecord, ...] = (
        await store.jobs.list(JobFilter(states=("failed", "partial")), limit=10)
    ).items
    active: tuple[JobRecord, ...] = (
        await store.jobs.list(JobFilter(states=ACTIVE_STATES), limit=10)
    ).items
    return page(
        request,
        "overview.html",
        {
            "snap": snap,
            "job_states": JOB_STATES,
            "task_states": TASK_STATES,
            "totals": totals(views),
            "failures": failures,
            "active": active,
            "errors": sorted(snap.errors.items(), key=lambda kv: -kv[1])[:10],
        },
        user=user,
    )


@router.get("/workers")
async def workers(request: Request, user: CurrentUser) -> Response:
    board = dashboard(request)
    now = await board.store.now()
    show_all = request.query_params.get("all") == "1"
    records = await board.store.workers.list(alive_within_s=None if show_all else 86_400.0)
    views = worker_views(records, now, board.alive_s)
    if not show_all:
        views = [v for v in views if v.record.state != "stopped"]
    views.sort(key=lambda v: (not v.alive, v.record.hostname, v.record.id))
    return page(
        request,
        "workers.html",
        {"workers": views, "totals": totals(views), "show_all": show_all, "alive_s": board.alive_s},
        user=user,
    )

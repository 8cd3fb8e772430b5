"""Hot-path statements of the queue, built once (statement construction dominates
the cost of a short transaction otherwise). Bound parameter names start with ``p_``."""

from __future__ import annotations

from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg

from netfleet.jobs.model import READY_TASK_STATES
from netfleet.store.schema import (
    device_slots,
    devices,
    jobs,
    session_holds,
    tasks,
)
from netfleet.store.schema_reliability import hold_epochs

READY = tuple(sorted(READY_TASK_STATES))
NOTIFY_CHANNEL = "netfleet_tasks"


def _p(name: str, type_: Any = None, *, expanding: bool = False) -> sa.BindParameter[Any]:
    return sa.bindparam(f"p_{name}", type_=type_, expanding=expanding)


def one_of(column: sa.ColumnElement[Any], name: str, postgres: bool) -> sa.ColumnElement[bool]:
    """``column`` is in the id list ``p_<name>``: ``= ANY(array)`` on PostgreSQL (one
    statement text whatever the length, so it is prepared once and planned once),
    an expanding ``IN`` on SQLite."""
    if postgres:
        return column == sa.any_(_p(name, pg.ARRAY(sa.BigInteger)))
    return column.in_(_p(name, expanding=True))


def _own_holds() -> tuple[sa.Join, sa.ColumnElement[int]]:
    """``device_slots`` joined with the live holds of worker ``p_worker``, and that count
    (a hold lives while the worker's epoch row matches it and lasts)."""
    h, e = session_holds, hold_epochs
    join = device_slots.outerjoin(
        h,
        sa.and_(h.c.device_id == device_slots.c.device_id, h.c.worker_id == _p("worker")),
    ).outerjoin(
        e,
        sa.and_(
            e.c.worker_id == h.c.worker_id,
            e.c.epoch == h.c.epoch,
            e.c.term == h.c.term,
            e.c.expires_at >= _p("now", sa.Double),
        ),
    )
    return join, sa.case((e.c.worker_id.is_not(None), h.c.held), else_=0)


@cache
def candidates(postgres: bool, warm: bool) -> sa.Select[Any]:
    """Ready tasks whose device has room for ``p_worker``, best first (``p_now``,
    ``p_scan``, ``p_warm``). Room: a free slot or one of the worker's own idle
    sessions (holds); an exclusive task needs every counted session to be its own."""
    s = device_slots
    slots_and_holds, held = _own_holds()
    query = (
        sa.select(
            tasks.c.id,
            tasks.c.state,
            tasks.c.job_id,
            tasks.c.device_id,
            tasks.c.exclusive,
            tasks.c.priority,
            tasks.c.run_at,
        )
        .select_from(tasks.join(slots_and_holds, s.c.device_id == tasks.c.device_id))
        .where(
            tasks.c.state.in_(READY),
            tasks.c.run_at <= _p("now", sa.Double),
            s.c.exclusive_held == sa.false(),
            sa.or_(s.c.running < s.c.max_sessions, held > 0),
            sa.or_(tasks.c.exclusive == sa.false(), sa.and_(s.c.running <= 1, s.c.running == held)),
        )
        .order_by(tasks.c.priority.desc(), tasks.c.run_at, tasks.c.id)
        .limit(_p("scan", sa.Integer))
    )
    if warm:
        query = query.where(one_of(tasks.c.device_id, "warm", postgres))
    if postgres:
        query = query.with_for_update(of=tasks, skip_locked=True, key_share=True)
    return query


ORDERED_CLAIMS = sa.text("SET LOCAL enable_sort = off")
"""PostgreSQL, in a claim's transaction: read candidates in the order of ``ix_tasks_ready``
and stop at the limit. Right after a large submit the statistics still say the table is
small, and the planner would rather sort every ready task (measured: 50-90 ms a claim
with 10,000 ready tasks, against 0.4 ms along the index)."""


@cache
def lock_slots(postgres: bool, skip_locked: bool) -> sa.Select[Any]:
    """Slot rows of ``p_ids`` with the device's generation and ``p_worker``'s live holds
    (``held``), locked in device order."""
    slots_and_holds, held = _own_holds()
    query = (
        sa.select(device_slots, devices.c.generation, held.label("held"))
        .select_from(slots_and_holds.join(devices, devices.c.id == device_slots.c.device_id))
        .where(one_of(device_slots.c.device_id, "ids", postgres))
        .order_by(device_slots.c.device_id)
    )
    if postgres:
        query = query.with_for_update(of=device_slots, skip_locked=skip_locked)
    return query


SET_SLOT = (
    device_slots.update()
    .where(device_slots.c.device_id == _p("device_id"))
    .values(running=_p("running"), exclusive_held=_p("exclusive_held", sa.Boolean))
)

CONSUME_HOLDS = (
    session_holds.update()
    .where(
        session_holds.c.worker_id == _p("worker_id"), session_holds.c.device_id == _p("device_id")
    )
    .values(held=session_holds.c.held - _p("count", sa.Integer))
)

CONSUME_HOLDS_PG = sa.text(
    "UPDATE session_holds SET held = session_holds.held - v.count "
    "FROM unnest(CAST(:p_ids AS BIGINT[]), CAST(:p_counts AS INTEGER[])) AS v(device_id, count) "
    "WHERE session_holds.worker_id = :p_worker_id AND session_holds.device_id = v.device_id"
)
"""PostgreSQL: ``CONSUME_HOLDS`` for many devices in one statement (parallel arrays)."""

_now = _p("now", sa.Double)


@cache
def take_tasks(postgres: bool) -> sa.Update:
    """Mark tasks ``p_ids`` running for ``p_owner`` until ``p_expires``."""
    return (
        tasks.update()
        .where(one_of(tasks.c.id, "ids", postgres))
        .values(
            state="running",
            attempt=tasks.c.attempt + 1,
            lease_owner=_p("owner"),
            lease_expires_at=_p("expires", sa.Double),
            started_at=_now,
            finished_at=None,
            deadline_at=sa.case(
                (tasks.c.deadline_s.is_(None), None), else_=_now + tasks.c.deadline_s
            ),
        )
        .returning(
            tasks.c.id,
            tasks.c.job_id,
            tasks.c.device_id,
            tasks.c.attempt,
            tasks.c.max_attempts,
            tasks.c.exclusive,
            tasks.c.deadline_at,
        )
    )


@cache
def heartbeat(postgres: bool) -> sa.Update:
    """Renew until ``p_expires`` the leases ``p_owner`` holds among tasks ``p_ids``."""
    return (
        tasks.update()
        .where(
            one_of(tasks.c.id, "ids", postgres),
            tasks.c.lease_owner == _p("owner"),
            tasks.c.state == "running",
        )
        .values(lease_expires_at=_p("expires", sa.Double))
        .returning(tasks.c.id, tasks.c.cancel_requested)
    )


@cache
def lock_slot_rows(postgres: bool) -> sa.Select[Any]:
    """The slot rows of devices ``p_ids``, locked in device order on PostgreSQL."""
    query = (
        sa.select(device_slots.c.device_id)
        .where(one_of(device_slots.c.device_id, "ids", postgres))
        .order_by(device_slots.c.device_id)
    )
    return query.with_for_update() if postgres else query


@cache
def running_tasks(postgres: bool) -> sa.Select[Any]:
    """The fencing fields of tasks ``p_ids`` (locked on PostgreSQL)."""
    query = sa.select(
        tasks.c.id,
        tasks.c.job_id,
        tasks.c.device_id,
        tasks.c.state,
        tasks.c.attempt,
        tasks.c.max_attempts,
        tasks.c.repeatable,
        tasks.c.lease_owner,
        tasks.c.lease_expires_at,
        tasks.c.cancel_requested,
    ).where(one_of(tasks.c.id, "ids", postgres))
    if postgres:
        query = query.with_for_update(key_share=True)
    return query


FINISH_TASK = (
    tasks.update()
    .where(tasks.c.id == _p("task_id"))
    .values(
        state=_p("state"),
        run_at=sa.func.coalesce(_p("run_at", sa.Double), tasks.c.run_at),
        finished_at=_p("finished_at", sa.Double),
        error=_p("error", sa.Text),
        error_kind=_p("error_kind"),
        lease_owner=None,
        lease_expires_at=None,
    )
)

_target = (
    sa.select(devices.c.max_sessions)
    .where(devices.c.id == device_slots.c.device_id)
    .scalar_subquery()
)
_left = device_slots.c.running - _p("count", sa.Integer)
RELEASE_SLOTS = (
    device_slots.update()
    .where(device_slots.c.device_id == _p("device_id"))
    .values(
        running=_left,
        exclusive_held=sa.false(),
        # Shrink towards the device's max_sessions, never below the sessions still running.
        max_sessions=sa.case((_target >= _left, _target), else_=_left),
    )
)

RELEASE_HELD_SLOTS = (
    device_slots.update()
    .where(device_slots.c.device_id == _p("device_id"))
    .values(running=_left, max_sessions=sa.case((_target >= _left, _target), else_=_left))
)
"""Give back ``p_count`` sessions that were holds (exclusivity is not theirs to end)."""


@cache
def end_exclusive(postgres: bool) -> sa.Update:
    """End the exclusivity of devices ``p_ids`` (rows not held exclusively stay unwritten)."""
    return (
        device_slots.update()
        .where(one_of(device_slots.c.device_id, "ids", postgres), device_slots.c.exclusive_held)
        .values(exclusive_held=sa.false())
    )


SET_SLOTS_PG = sa.text(
    "UPDATE device_slots SET running = v.running, exclusive_held = v.exclusive_held "
    "FROM unnest(CAST(:p_ids AS BIGINT[]), CAST(:p_running AS INTEGER[]), "
    "CAST(:p_exclusive AS BOOLEAN[])) AS v(device_id, running, exclusive_held) "
    "WHERE device_slots.device_id = v.device_id"
)
"""PostgreSQL: ``SET_SLOT`` for many devices in one statement (parallel arrays)."""

FINISH_TASKS_PG = sa.text(
    "UPDATE tasks SET state = v.state, run_at = coalesce(v.run_at, tasks.run_at), "
    "finished_at = v.finished_at, error = v.error, error_kind = v.error_kind, "
    "lease_owner = NULL, lease_expires_at = NULL "
    "FROM unnest(CAST(:p_ids AS BIGINT[]), CAST(:p_states AS VARCHAR[]), "
    "CAST(:p_run_ats AS DOUBLE PRECISION[]), CAST(:p_finished_ats AS DOUBLE PRECISION[]), "
    "CAST(:p_errors AS TEXT[]), CAST(:p_error_kinds AS VARCHAR[])) "
    "AS v(id, state, run_at, finished_at, error, error_kind) "
    "WHERE tasks.id = v.id"
)
"""PostgreSQL: ``FINISH_TASK`` for many tasks in one statement (parallel arrays)."""

COUNTERS = (
    "tasks_queued",
    "tasks_retrying",
    "tasks_running",
    "tasks_succeeded",
    "tasks_failed",
    "tasks_cancelled",
)
BUMP_JOB = (
    jobs.update()
    .where(jobs.c.id == _p("job"))
    .values({jobs.c[c]: jobs.c[c] + _p(c, sa.Integer) for c in COUNTERS})
    .returning(*(jobs.c[c] for c in COUNTERS), jobs.c.tasks_total, jobs.c.state)
)
SET_JOB_STATE = (
    jobs.update()
    .where(jobs.c.id == _p("job"))
    .values(state=_p("state"), finished_at=_p("finished_at", sa.Double))
)

NOTIFY = sa.select(sa.func.pg_notify(NOTIFY_CHANNEL, ""))

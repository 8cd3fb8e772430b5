"""Gate SQL driven by people and the clock: approve, reject, resume a halted rollout,
release jobs whose change window opened; gate records.

Each locks the job row first (as the completion path does), so a decision never
races a batch release.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from netfleet.core.errors import Conflict, Forbidden, NotFound
from netfleet.jobs.gates import governed
from netfleet.jobs.model import JobSpec, JobState, derive_job_state
from netfleet.jobs.windows import judge
from netfleet.store.records_changes import GateRecord
from netfleet.store.schema import jobs
from netfleet.store.schema_changes import job_gates
from netfleet.store.sql import gates
from netfleet.store.sql import windows as windows_sql
from netfleet.store.sql.jobs import cancel_job, counts_of


def lock_job(conn: Connection, job_id: int) -> Row[Any]:
    query = sa.select(jobs).where(jobs.c.id == job_id)
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()
    row = conn.execute(query).first()
    if row is None:
        raise NotFound(f"job {job_id} not found")
    return row


def _gate_row(conn: Connection, job_id: int) -> Row[Any] | None:
    return conn.execute(sa.select(job_gates).where(job_gates.c.job_id == job_id)).first()


def gate_record(row: Row[Any]) -> GateRecord:
    return GateRecord(
        job_id=int(row.job_id),
        state=row.state,
        submitted_by=row.submitted_by,
        needs_approval=bool(row.needs_approval),
        decision=row.decision,
        decided_by=row.decided_by,
        decided_at=row.decided_at,
        emergency=bool(row.emergency),
        plan=tuple(int(n) for n in row.plan or ()),
        batch=int(row.batch),
        released=int(row.released),
        budget=int(row.budget),
        failure_base=int(row.failure_base),
        pause_s=float(row.pause_s),
        reason=row.reason or "",
        window=row.window,
        next_opening=row.next_opening,
        updated_at=row.updated_at,
    )


def get_gate(conn: Connection, job_id: int) -> GateRecord:
    """``NotFound`` if the job does not exist or has no gate."""
    row = _gate_row(conn, job_id)
    if row is None:
        if conn.execute(sa.select(jobs.c.id).where(jobs.c.id == job_id)).first() is None:
            raise NotFound(f"job {job_id} not found")
        raise NotFound(f"job {job_id} has no approval, change window or rollout")
    return gate_record(row)


def list_gates(conn: Connection, states: tuple[str, ...], limit: int) -> list[GateRecord]:
    query = sa.select(job_gates).order_by(job_gates.c.job_id.desc()).limit(limit)
    if states:
        query = query.where(job_gates.c.state.in_(states))
    return [gate_record(r) for r in conn.execute(query)]


def _set_gate(conn: Connection, job_id: int, **values: Any) -> None:
    conn.execute(job_gates.update().where(job_gates.c.job_id == job_id).values(**values))


def _lift(conn: Connection, job: Row[Any], gate: Row[Any], now: float, t: float) -> JobState:
    """Approval given or window open: release the tasks (or the next batch)."""
    job_id = int(job.id)
    spec = JobSpec.model_validate_json(job.spec)
    if governed(spec) and not gate.emergency:
        windows = windows_sql.load_windows(conn, job_id=job_id)
        if windows:
            verdict = judge(windows, max(t, gate.not_before or 0.0))
            if not verdict.allowed:
                if gate.state != "awaiting_window":
                    gates.wait_for_window(conn, job_id, verdict, now)
                return "awaiting_window"
    state = derive_job_state(counts_of(job))
    gates.set_job_state(conn, job_id, state)
    if gate.plan:
        _set_gate(conn, job_id, state="rolling", reason="", updated_at=now)
        gates.release_next_batch(conn, job_id, now, first=True)
    else:
        _set_gate(conn, job_id, state="released", reason="", updated_at=now)
        gates.release_all(conn, job_id, now, gate.not_before)
    return state


def approve(conn: Connection, job_id: int, actor: str, now: float) -> JobState:
    job = lock_job(conn, job_id)
    gate = _gate_row(conn, job_id)
    if gate is None or gate.state != "awaiting_approval":
        raise Conflict(f"job {job_id} is {job.state}, not awaiting approval")
    if gate.submitted_by is not None and gate.submitted_by == actor:
        raise Forbidden(f"{actor} submitted job {job_id}; another admin must approve it")
    _set_gate(conn, job_id, decision="approved", decided_by=actor, decided_at=now, updated_at=now)
    gates.event(conn, job_id, "approval.granted", f"approved by {actor}", now, actor=actor)
    return _lift(conn, job, gate, now, gates.window_time(conn, now))


def reject(conn: Connection, job_id: int, actor: str, reason: str, now: float) -> None:
    """Reject (cancels the job). The submitter may withdraw its own job this way."""
    job = lock_job(conn, job_id)
    gate = _gate_row(conn, job_id)
    if gate is None or gate.state != "awaiting_approval":
        raise Conflict(f"job {job_id} is {job.state}, not awaiting approval")
    text = f"rejected by {actor}" + (f": {reason}" if reason else "")
    _set_gate(
        conn,
        job_id,
        state="rejected",
        decision="rejected",
        decided_by=actor,
        decided_at=now,
        reason=text,
        updated_at=now,
    )
    gates.event(conn, job_id, "approval.rejected", text, now, actor=actor)
    cancel_job(conn, job_id, now)


def resume(conn: Connection, job_id: int, actor: str, now: float) -> JobState:
    """Resume a halted rollout: failures so far no longer count against the budget."""
    job = lock_job(conn, job_id)
    gate = _gate_row(conn, job_id)
    if gate is None or gate.state != "halted":
        raise Conflict(f"job {job_id} is {job.state}, not a halted rollout")
    _set_gate(
        conn, job_id, state="rolling", failure_base=job.tasks_failed, reason="", updated_at=now
    )
    gates.event(
        conn,
        job_id,
        "rollout.resumed",
        f"resumed by {actor} ({job.tasks_failed} earlier failure(s) forgiven)",
        now,
        actor=actor,
    )
    state = derive_job_state(counts_of(job))
    gates.set_job_state(conn, job_id, state)
    gates.rerelease(conn, job_id, int(gate.released), now)
    finished = int(job.tasks_succeeded + job.tasks_failed + job.tasks_cancelled)
    if finished >= gate.released and gate.batch < len(gate.plan or []):
        return gates.advance(conn, job_id, bool(gate.emergency), now) or state
    return state


def release_open_windows(conn: Connection, now: float, limit: int = 100) -> list[int]:
    """Release jobs waiting for a change window that is open now; their ids."""
    t = gates.window_time(conn, now)
    waiting = conn.execute(
        sa.select(job_gates.c.job_id)
        .where(job_gates.c.state == "awaiting_window")
        .order_by(job_gates.c.job_id)
        .limit(limit)
    ).all()
    if not waiting:
        return []
    every = windows_sql.all_windows(conn)
    released: list[int] = []
    for (job_id,) in waiting:
        job = lock_job(conn, int(job_id))
        gate = _gate_row(conn, int(job_id))
        if gate is None or gate.state != "awaiting_window":
            continue  # another scheduler released it first
        windows = windows_sql.scope_windows(conn, every, job_id=int(job_id))
        verdict = judge(windows, max(t, gate.not_before or 0.0))
        if not verdict.allowed:
            if verdict.next_opening != gate.next_opening or verdict.reason != gate.reason:
                _set_gate(
                    conn,
                    int(job_id),
                    reason=verdict.reason,
                    window=verdict.window,
                    next_opening=verdict.next_opening,
                    updated_at=now,
                )
            continue
        gates.event(conn, int(job_id), "window.opened", "change window open: released", now)
        _lift(conn, job, gate, now, t)
        released.append(int(job_id))
    return released

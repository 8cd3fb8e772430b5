"""Gate SQL on the submit and completion paths: hold a new job's tasks back, release
rollout batches, halt on the failure budget.

``gate_new_job`` runs in the submit transaction; ``after_transitions`` in every
transaction that finishes tasks (completion, reaper, cancel), after the job row
was locked by its counter update, so concurrent completions of one job decide
one after the other and a batch is released exactly once. Jobs without a gate
row cost one primary-key read per transaction that finishes tasks.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from netfleet.core.errors import Conflict
from netfleet.jobs.gates import HELD_RUN_AT, ChangePolicy, governed, needs_approval
from netfleet.jobs.model import READY_TASK_STATES, TERMINAL_JOB_STATES, JobSpec, JobState
from netfleet.jobs.windows import Verdict, judge
from netfleet.store.schema import jobs, task_events, tasks
from netfleet.store.schema_changes import job_gates
from netfleet.store.sql import outbox
from netfleet.store.sql.windows import groups_of, load_windows

POLICY_KEY = "netfleet_change_policy"
"""``Connection.info`` key: the store's ``ChangePolicy`` (set by ``Database``)."""
READY = tuple(sorted(READY_TASK_STATES))
ACTIVE = ("awaiting_approval", "awaiting_window", "rolling", "halted")
NOTIFY_KINDS = frozenset({"approval.requested", "rollout.halted"})
"""Gate events that also go to the notification outbox (in the same transaction)."""
GATE_OF_JOB = sa.select(job_gates).where(job_gates.c.job_id == sa.bindparam("p_id"))
"""Built once (no expanding parameters): it runs in every transaction that finishes tasks."""


def policy_of(conn: Connection) -> ChangePolicy:
    policy = conn.info.get(POLICY_KEY)
    return policy if isinstance(policy, ChangePolicy) else ChangePolicy()


def window_time(conn: Connection, now: float) -> float:
    """The time change windows are judged at (the policy's clock, if injected)."""
    clock = policy_of(conn).clock
    return clock() if clock is not None else now


def event(conn: Connection, job_id: int, kind: str, message: str, now: float, **data: Any) -> None:
    """A job-level event in the notify shape (``type``, ``job_id``, ``message``, ...)."""
    name = conn.execute(sa.select(jobs.c.name).where(jobs.c.id == job_id)).scalar()
    payload = {"type": kind, "job_id": job_id, "job_name": name, "message": message, **data}
    conn.execute(
        task_events.insert().values(job_id=job_id, at=now, kind=kind, message=message, data=payload)
    )
    if kind in NOTIFY_KINDS:
        groups = groups_of(conn, job_id=job_id)
        outbox.emit(conn, kind, {**payload, "job_kind": "config", "groups": groups}, now)


def set_job_state(conn: Connection, job_id: int, state: JobState) -> None:
    conn.execute(jobs.update().where(jobs.c.id == job_id).values(state=state))


def refusal(job: str, verdict: Verdict) -> Conflict:
    return Conflict(
        f"{job} refused: {verdict.reason} (the window's policy is refuse; set "
        "options.window_policy to 'wait' to queue it, or options.emergency as an admin)"
    )


def gate_new_job(
    conn: Connection,
    job_id: int,
    spec: JobSpec,
    targets: Sequence[tuple[int, str]],
    now: float,
    submitted_by: str | None,
) -> JobState | None:
    """Hold back what must wait; the job's gate state, or None if it runs as usual.

    Raises ``Conflict`` (the caller rolls back) for a job a closed window refuses."""
    rollout = spec.options.rollout
    if not governed(spec) and rollout is None:
        return None
    policy = policy_of(conn)
    approval = policy.require_approval and needs_approval(
        policy, spec, groups_of(conn, [i for i, _ in targets]) if policy.approval_groups else []
    )
    not_before = spec.options.run_at.timestamp() if spec.options.run_at else None
    verdict: Verdict | None = None
    windows = load_windows(conn, targets=targets) if governed(spec) else []
    if windows:
        verdict = judge(windows, max(window_time(conn, now), not_before or 0.0))
        if not verdict.allowed and spec.options.emergency:
            event(conn, job_id, "window.override", f"emergency: {verdict.reason}", now)
            verdict = None
        elif not verdict.allowed and not approval:
            if (spec.options.window_policy or verdict.policy) == "refuse":
                raise refusal("the job", verdict)
        elif verdict.allowed:
            verdict = None
    if not approval and verdict is None and rollout is None:
        return None
    plan = rollout.plan(len(targets)) if rollout is not None else None
    state = (
        "awaiting_approval" if approval else "awaiting_window" if verdict is not None else "rolling"
    )
    conn.execute(
        job_gates.insert().values(
            job_id=job_id,
            state=state,
            submitted_by=submitted_by,
            needs_approval=approval,
            emergency=spec.options.emergency,
            plan=plan,
            budget=rollout.budget(len(targets)) if rollout is not None else 0,
            pause_s=rollout.pause_s if rollout is not None else 0.0,
            reason=verdict.reason if verdict is not None else "",
            window=verdict.window if verdict is not None else None,
            next_opening=verdict.next_opening if verdict is not None else None,
            not_before=not_before,
            created_at=now,
            updated_at=now,
        )
    )
    conn.execute(tasks.update().where(tasks.c.job_id == job_id).values(run_at=HELD_RUN_AT))
    if approval:
        set_job_state(conn, job_id, "awaiting_approval")
        who = submitted_by or "unknown"
        event(
            conn,
            job_id,
            "approval.requested",
            f"submitted by {who}; another admin must approve it",
            now,
            submitted_by=who,
            devices=[n for _, n in targets[:50]],
        )
        return "awaiting_approval"
    if verdict is not None:
        set_job_state(conn, job_id, "awaiting_window")
        event(conn, job_id, "window.waiting", verdict.reason, now, window=verdict.window)
        return "awaiting_window"
    release_next_batch(conn, job_id, now, first=True)
    return None


def _gate(conn: Connection, job_id: int) -> Row[Any]:
    return conn.execute(sa.select(job_gates).where(job_gates.c.job_id == job_id)).one()


def release_next_batch(conn: Connection, job_id: int, now: float, *, first: bool = False) -> int:
    """Release the gate's next batch (after its pause, unless ``first``); tasks released."""
    gate = _gate(conn, job_id)
    plan: list[int] = list(gate.plan or [])
    if gate.batch >= len(plan):
        return 0
    size = plan[gate.batch]
    start = now if first else now + float(gate.pause_s)
    start = max(start, gate.not_before or 0.0)
    ids = _ordered_ids(conn, job_id, gate.released, size)
    conn.execute(
        tasks.update()
        .where(tasks.c.id.in_(ids), tasks.c.state.in_(READY), tasks.c.run_at == HELD_RUN_AT)
        .values(run_at=start)
    )
    conn.execute(
        job_gates.update()
        .where(job_gates.c.job_id == job_id)
        .values(
            state="rolling",
            batch=gate.batch + 1,
            released=gate.released + size,
            updated_at=now,
        )
    )
    event(
        conn,
        job_id,
        "rollout.batch",
        f"batch {gate.batch + 1} of {len(plan)}: {size} task(s) released",
        now,
        batch=gate.batch + 1,
        batches=len(plan),
        size=size,
        start_at=start,
    )
    _notify(conn)
    return int(size)


def _ordered_ids(conn: Connection, job_id: int, offset: int, limit: int) -> list[int]:
    rows = conn.execute(
        sa.select(tasks.c.id)
        .where(tasks.c.job_id == job_id)
        .order_by(tasks.c.device_name, tasks.c.id)
        .offset(offset)
        .limit(limit)
    )
    return [int(r.id) for r in rows]


def release_all(conn: Connection, job_id: int, now: float, not_before: float | None) -> None:
    """Release every held task of the job (no rollout)."""
    conn.execute(
        tasks.update()
        .where(tasks.c.job_id == job_id, tasks.c.run_at == HELD_RUN_AT)
        .values(run_at=max(now, not_before or 0.0))
    )
    _notify(conn)


def rerelease(conn: Connection, job_id: int, released: int, now: float) -> None:
    """Release again the held tasks of the batches already released (after a halt)."""
    ids = _ordered_ids(conn, job_id, 0, released)
    conn.execute(
        tasks.update()
        .where(tasks.c.id.in_(ids), tasks.c.state.in_(READY), tasks.c.run_at == HELD_RUN_AT)
        .values(run_at=now)
    )
    _notify(conn)


def _hold_ready(conn: Connection, job_id: int) -> None:
    """Hold back the job's released tasks that no worker took yet (claims in flight win)."""
    pick = sa.select(tasks.c.id).where(
        tasks.c.job_id == job_id, tasks.c.state.in_(READY), tasks.c.run_at != HELD_RUN_AT
    )
    if conn.dialect.name == "postgresql":
        pick = pick.with_for_update(skip_locked=True)
    ids = [r.id for r in conn.execute(pick)]
    if ids:
        conn.execute(tasks.update().where(tasks.c.id.in_(ids)).values(run_at=HELD_RUN_AT))


def _notify(conn: Connection) -> None:
    if conn.dialect.name == "postgresql":
        conn.execute(sa.select(sa.func.pg_notify("netfleet_tasks", "")))


def after_transitions(
    conn: Connection, rows: Mapping[int, Row[Any]], derived: Mapping[int, JobState], now: float
) -> dict[int, JobState]:
    """Advance the gates of jobs whose tasks just finished; the job states it changed.

    ``rows``: each job's counters after the change (its row is locked); ``derived``:
    the states just stored."""
    found = (conn.execute(GATE_OF_JOB, {"p_id": job_id}).first() for job_id in sorted(rows))
    gates = [g for g in found if g is not None and g.state in ACTIVE]
    out: dict[int, JobState] = {}
    for gate in gates:
        job_id = int(gate.job_id)
        row = rows[job_id]
        if derived[job_id] in TERMINAL_JOB_STATES:
            conn.execute(
                job_gates.update()
                .where(job_gates.c.job_id == job_id)
                .values(state="done", updated_at=now)
            )
            continue
        if gate.state != "rolling":
            continue
        failures = int(row.tasks_failed) - int(gate.failure_base)
        if failures > gate.budget:
            out[job_id] = halt(conn, gate, failures, now)
            continue
        finished = int(row.tasks_succeeded + row.tasks_failed + row.tasks_cancelled)
        if finished < gate.released or gate.batch >= len(gate.plan or []):
            continue
        state = advance(conn, job_id, bool(gate.emergency), now)
        if state is not None:
            out[job_id] = state
    return out


def halt(conn: Connection, gate: Row[Any], failures: int, now: float) -> JobState:
    job_id = int(gate.job_id)
    plan = list(gate.plan or [])
    reason = (
        f"{failures} task(s) failed, more than the rollout's budget of {gate.budget}; "
        f"halted after batch {gate.batch} of {len(plan)} "
        f"({sum(plan) - gate.released} task(s) not released)"
    )
    _hold_ready(conn, job_id)
    conn.execute(
        job_gates.update()
        .where(job_gates.c.job_id == job_id)
        .values(state="halted", reason=reason, updated_at=now)
    )
    set_job_state(conn, job_id, "halted")
    event(
        conn,
        job_id,
        "rollout.halted",
        reason,
        now,
        status="halted",
        failed=failures,
        budget=int(gate.budget),
        batch=int(gate.batch),
        batches=len(plan),
    )
    return "halted"


def advance(conn: Connection, job_id: int, emergency: bool, now: float) -> JobState | None:
    """The current batch finished: release the next one, unless a window closed meanwhile."""
    if not emergency and _governed_job(conn, job_id):
        windows = load_windows(conn, job_id=job_id)
        if windows:
            verdict = judge(windows, window_time(conn, now))
            if not verdict.allowed:
                wait_for_window(conn, job_id, verdict, now)
                return "awaiting_window"
    release_next_batch(conn, job_id, now)
    return None


def wait_for_window(conn: Connection, job_id: int, verdict: Verdict, now: float) -> None:
    conn.execute(
        job_gates.update()
        .where(job_gates.c.job_id == job_id)
        .values(
            state="awaiting_window",
            reason=verdict.reason,
            window=verdict.window,
            next_opening=verdict.next_opening,
            updated_at=now,
        )
    )
    set_job_state(conn, job_id, "awaiting_window")
    event(conn, job_id, "window.waiting", verdict.reason, now, window=verdict.window)


def _governed_job(conn: Connection, job_id: int) -> bool:
    text = conn.execute(sa.select(jobs.c.spec).where(jobs.c.id == job_id)).scalar_one()
    return governed(JobSpec.model_validate_json(text))

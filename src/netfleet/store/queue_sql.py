"""Queue SQL: claim, heartbeat, complete, reap, deadlines — all in short transactions.

Claims pick tasks whose device has a free slot, lock them (PostgreSQL: ``FOR NO
KEY UPDATE SKIP LOCKED``; SQLite: the whole database via ``BEGIN IMMEDIATE``),
lock the slot rows in device-id order, take the slots and mark the tasks
running — all in one transaction. The slot row's CHECK constraints make an
over-commit impossible even if this code were wrong.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from netfleet.core.models import DeviceSpec
from netfleet.jobs.model import READY_TASK_STATES, TaskState
from netfleet.jobs.retry import backoff_delay, should_retry
from netfleet.store.interface import (
    ClaimedTask,
    Completion,
    HeartbeatResult,
    ReapResult,
    TaskOutcome,
)
from netfleet.store.jobs_sql import NOTIFY_CHANNEL, SpecCache, apply_transitions
from netfleet.store.schema import device_slots, devices, task_events, task_outputs, tasks

DeviceLoader = Callable[[Connection, int, int], DeviceSpec]
"""(conn, device id, generation) -> DeviceSpec with decrypted credentials (cached)."""

MAX_WARM = 500
READY = tuple(READY_TASK_STATES)


@dataclass(slots=True)
class _Slot:
    running: int
    max_sessions: int
    exclusive_held: bool
    generation: int


def _candidates(
    conn: Connection, postgres: bool, now: float, scan: int, warm: Collection[int] | None
) -> list[Row[Any]]:
    s = device_slots
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
        .join(s, s.c.device_id == tasks.c.device_id)
        .where(
            tasks.c.state.in_(READY),
            tasks.c.run_at <= now,
            s.c.exclusive_held == sa.false(),
            s.c.running < s.c.max_sessions,
            sa.or_(tasks.c.exclusive == sa.false(), s.c.running == 0),
        )
        .order_by(tasks.c.priority.desc(), tasks.c.run_at, tasks.c.id)
        .limit(scan)
    )
    if warm is not None:
        query = query.where(tasks.c.device_id.in_(list(warm)))
    if postgres:
        query = query.with_for_update(of=tasks, skip_locked=True, key_share=True)
    return list(conn.execute(query))


def _lock_slots(
    conn: Connection, postgres: bool, device_ids: Collection[int], *, skip_locked: bool
) -> dict[int, _Slot]:
    query = (
        sa.select(device_slots, devices.c.generation)
        .join(devices, devices.c.id == device_slots.c.device_id)
        .where(device_slots.c.device_id.in_(sorted(device_ids)))
        .order_by(device_slots.c.device_id)
    )
    if postgres:
        query = query.with_for_update(of=device_slots, skip_locked=skip_locked)
    return {
        r.device_id: _Slot(r.running, r.max_sessions, bool(r.exclusive_held), r.generation)
        for r in conn.execute(query)
    }


def claim(
    conn: Connection,
    *,
    postgres: bool,
    worker_id: str,
    limit: int,
    lease_s: float,
    warm: Collection[int],
    now: float,
    specs: SpecCache,
    load_device: DeviceLoader,
) -> list[ClaimedTask]:
    """Claim up to ``limit`` tasks (see the module docstring)."""
    warm_set = frozenset(list(warm)[:MAX_WARM])
    claimed: list[ClaimedTask] = []
    scan = max(2 * limit, 16)
    changes: dict[int, dict[tuple[str, str], int]] = defaultdict(lambda: defaultdict(int))
    # Later rounds skip devices saturated by earlier ones. On PostgreSQL only round one
    # waits for slot locks (taken in device order); later rounds skip locked slot rows.
    for round_no in range(4):
        want = limit - len(claimed)
        rows = _candidates(conn, postgres, now, scan, None)
        full = len(rows) >= scan
        if warm_set:
            seen = {r.id for r in rows}
            rows += [
                r for r in _candidates(conn, postgres, now, scan, warm_set) if r.id not in seen
            ]
        if not rows:
            break
        rows.sort(key=lambda r: (-r.priority, r.device_id not in warm_set, r.run_at, r.id))
        slots = _lock_slots(conn, postgres, {r.device_id for r in rows}, skip_locked=round_no > 0)
        picked: list[Row[Any]] = []
        touched: set[int] = set()
        for r in rows:
            slot = slots.get(r.device_id)
            if slot is None or slot.exclusive_held:
                continue
            if r.exclusive:
                if slot.running:
                    continue
                slot.exclusive_held = True
            elif slot.running >= slot.max_sessions:
                continue
            slot.running += 1
            touched.add(r.device_id)
            picked.append(r)
            changes[r.job_id][(r.state, "running")] += 1
            if len(picked) >= want:
                break
        if picked:
            claimed += _take(
                conn, picked, slots, touched, worker_id, lease_s, now, specs, load_device
            )
        if len(claimed) >= limit or not full:
            break
    if claimed:
        apply_transitions(conn, changes, now)
        conn.execute(task_events.insert(), [_claim_event(t, worker_id, now) for t in claimed])
    return claimed


def _claim_event(task: ClaimedTask, worker_id: str, now: float) -> dict[str, Any]:
    return {
        "job_id": task.job_id,
        "task_id": task.task_id,
        "at": now,
        "kind": "claimed",
        "message": f"attempt {task.attempt} claimed by {worker_id}",
        "data": {"worker": worker_id, "attempt": task.attempt},
    }


def _take(
    conn: Connection,
    picked: Sequence[Row[Any]],
    slots: dict[int, _Slot],
    touched: set[int],
    worker_id: str,
    lease_s: float,
    now: float,
    specs: SpecCache,
    load_device: DeviceLoader,
) -> list[ClaimedTask]:
    conn.execute(
        device_slots.update()
        .where(device_slots.c.device_id == sa.bindparam("d"))
        .values(running=sa.bindparam("r"), exclusive_held=sa.bindparam("x")),
        [{"d": d, "r": slots[d].running, "x": slots[d].exclusive_held} for d in sorted(touched)],
    )
    expires = now + lease_s
    rows = conn.execute(
        tasks.update()
        .where(tasks.c.id.in_([r.id for r in picked]))
        .values(
            state="running",
            attempt=tasks.c.attempt + 1,
            lease_owner=worker_id,
            lease_expires_at=expires,
            started_at=now,
            finished_at=None,
            deadline_at=sa.case(
                (tasks.c.deadline_s.is_(None), None), else_=now + tasks.c.deadline_s
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
    ).all()
    order = {r.id: i for i, r in enumerate(picked)}
    return [
        ClaimedTask(
            task_id=r.id,
            job_id=r.job_id,
            attempt=r.attempt,
            max_attempts=r.max_attempts,
            device_id=r.device_id,
            device=load_device(conn, r.device_id, slots[r.device_id].generation),
            spec=specs.get(r.job_id, conn=conn),
            exclusive=bool(r.exclusive),
            lease_expires_at=expires,
            deadline_at=r.deadline_at,
        )
        for r in sorted(rows, key=lambda r: order[r.id])
    ]


def heartbeat(
    conn: Connection, worker_id: str, task_ids: Sequence[int], lease_s: float, now: float
) -> HeartbeatResult:
    if not task_ids:
        return HeartbeatResult(frozenset(), frozenset(), frozenset())
    rows = conn.execute(
        tasks.update()
        .where(
            tasks.c.id.in_(list(task_ids)),
            tasks.c.lease_owner == worker_id,
            tasks.c.state == "running",
        )
        .values(lease_expires_at=now + lease_s)
        .returning(tasks.c.id, tasks.c.cancel_requested)
    ).all()
    renewed = frozenset(r.id for r in rows)
    return HeartbeatResult(
        renewed=renewed,
        cancel_requested=frozenset(r.id for r in rows if r.cancel_requested),
        lost=frozenset(task_ids) - renewed,
    )


def _release(conn: Connection, per_device: dict[int, int]) -> None:
    """Give back ``n`` slots per device; shrink ``max_sessions`` to the device's setting."""
    target = (
        sa.select(devices.c.max_sessions)
        .where(devices.c.id == device_slots.c.device_id)
        .scalar_subquery()
    )
    left = device_slots.c.running - sa.bindparam("n")
    conn.execute(
        device_slots.update()
        .where(device_slots.c.device_id == sa.bindparam("d"))
        .values(
            running=left,
            exclusive_held=sa.false(),
            max_sessions=sa.case((target >= left, target), else_=left),
        ),
        [{"d": d, "n": n} for d, n in sorted(per_device.items())],
    )


def complete_many(
    conn: Connection,
    *,
    postgres: bool,
    worker_id: str,
    items: Sequence[tuple[int, int, TaskOutcome]],
    now: float,
    specs: SpecCache,
) -> list[Completion | None]:
    """Finish attempts ``(task_id, attempt, outcome)``; ``None`` where fenced out."""
    ids = sorted({task_id for task_id, _, _ in items})
    query = sa.select(
        tasks.c.id,
        tasks.c.job_id,
        tasks.c.device_id,
        tasks.c.state,
        tasks.c.attempt,
        tasks.c.max_attempts,
        tasks.c.lease_owner,
        tasks.c.cancel_requested,
    ).where(tasks.c.id.in_(ids))
    if postgres:
        query = query.with_for_update(key_share=True)
    current = {r.id: r for r in conn.execute(query)}
    results: list[Completion | None] = []
    updates: list[dict[str, Any]] = []
    outputs: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    per_device: dict[int, int] = defaultdict(int)
    changes: dict[int, dict[tuple[str, str], int]] = defaultdict(lambda: defaultdict(int))
    done: set[int] = set()
    notify = False
    for task_id, attempt, outcome in items:
        row = current.get(task_id)
        if (
            row is None
            or task_id in done
            or row.state != "running"
            or row.lease_owner != worker_id
            or row.attempt != attempt
        ):
            results.append(None)
            continue
        done.add(task_id)
        state: TaskState = outcome.status
        run_at: float | None = None
        if outcome.status == "failed" and not row.cancel_requested:
            options = specs.get(row.job_id, conn=conn).options
            if should_retry(
                options,
                attempt=attempt,
                max_attempts=row.max_attempts,
                transient=outcome.transient,
                retryable=outcome.retryable,
            ):
                state = "retrying"
                run_at = now + backoff_delay(options, attempt)
                notify = True
        updates.append(
            {
                "t": task_id,
                "state": state,
                "run_at": run_at,
                "finished_at": None if state == "retrying" else now,
                "error": outcome.error,
                "error_kind": outcome.error_kind,
            }
        )
        outputs += [
            {
                "task_id": task_id,
                "attempt": attempt,
                "seq": seq,
                "command": res.command,
                "output": res.output,
                "parsed": res.parsed,
                "ok": res.ok,
                "error": res.error,
                "error_kind": res.error_kind,
                "started_at": res.started_at,
                "duration_ms": res.duration_ms,
            }
            for seq, res in enumerate(outcome.outputs)
        ]
        message = outcome.error or ""
        if state == "retrying" and run_at is not None:
            message = f"attempt {attempt} failed, retry in {run_at - now:.1f}s: {message}"
        events.append(
            {
                "job_id": row.job_id,
                "task_id": task_id,
                "at": now,
                "kind": "retry_scheduled" if state == "retrying" else state,
                "message": message,
                "data": {"attempt": attempt, "error_kind": outcome.error_kind},
            }
        )
        if row.device_id is not None:
            per_device[row.device_id] += 1
        changes[row.job_id][("running", state)] += 1
        results.append(Completion(task_id, state, run_at, "running"))
    if not updates:
        return results
    conn.execute(
        tasks.update()
        .where(tasks.c.id == sa.bindparam("t"))
        .values(
            state=sa.bindparam("state"),
            run_at=sa.func.coalesce(sa.bindparam("run_at", type_=sa.Double), tasks.c.run_at),
            finished_at=sa.bindparam("finished_at"),
            error=sa.bindparam("error"),
            error_kind=sa.bindparam("error_kind"),
            lease_owner=None,
            lease_expires_at=None,
        ),
        updates,
    )
    if outputs:
        conn.execute(task_outputs.insert(), outputs)
    conn.execute(task_events.insert(), events)
    _release(conn, per_device)
    job_states = apply_transitions(conn, changes, now)
    if notify and postgres:
        conn.execute(sa.select(sa.func.pg_notify(NOTIFY_CHANNEL, "")))
    return [
        None
        if c is None
        else Completion(c.task_id, c.state, c.next_run_at, job_states[current[c.task_id].job_id])
        for c in results
    ]


def _fail_or_requeue(
    conn: Connection,
    rows: Sequence[Any],
    now: float,
    decide: Callable[[Row[Any]], tuple[TaskState, str, str]],
) -> list[tuple[int, TaskState]]:
    per_device: dict[int, int] = defaultdict(int)
    changes: dict[int, dict[tuple[str, str], int]] = defaultdict(lambda: defaultdict(int))
    updates = []
    events = []
    out: list[tuple[int, TaskState]] = []
    for r in rows:
        state, kind, message = decide(r)
        out.append((r.id, state))
        updates.append(
            {
                "t": r.id,
                "state": state,
                "finished_at": None if state == "queued" else now,
                "error": message,
                "error_kind": kind,
            }
        )
        events.append(
            {
                "job_id": r.job_id,
                "task_id": r.id,
                "at": now,
                "kind": kind,
                "message": message,
                "data": {"attempt": r.attempt, "worker": r.lease_owner},
            }
        )
        if r.device_id is not None:
            per_device[r.device_id] += 1
        changes[r.job_id][("running", state)] += 1
    if not rows:
        return out
    conn.execute(
        tasks.update()
        .where(tasks.c.id == sa.bindparam("t"))
        .values(
            state=sa.bindparam("state"),
            run_at=now,
            finished_at=sa.bindparam("finished_at"),
            error=sa.bindparam("error"),
            error_kind=sa.bindparam("error_kind"),
            lease_owner=None,
            lease_expires_at=None,
        ),
        updates,
    )
    conn.execute(task_events.insert(), events)
    _release(conn, per_device)
    apply_transitions(conn, changes, now)
    return out


_ROW_COLS = (
    tasks.c.id,
    tasks.c.job_id,
    tasks.c.device_id,
    tasks.c.attempt,
    tasks.c.max_attempts,
    tasks.c.repeatable,
    tasks.c.lease_owner,
    tasks.c.cancel_requested,
)


def reap(conn: Connection, *, postgres: bool, now: float, batch: int = 1000) -> ReapResult:
    """Expired leases: requeue (attempts left, repeatable, not cancelled) or fail."""
    query = (
        sa.select(*_ROW_COLS)
        .where(tasks.c.state == "running", tasks.c.lease_expires_at < now)
        .order_by(tasks.c.id)
        .limit(batch)
    )
    if postgres:
        query = query.with_for_update(skip_locked=True, key_share=True)
    rows = list(conn.execute(query))

    def decide(r: Row[Any]) -> tuple[TaskState, str, str]:
        who = f"lease of {r.lease_owner} expired"
        if r.cancel_requested:
            return "cancelled", "cancelled", f"{who}; cancelled"
        if not r.repeatable:
            return "failed", "lease_lost", f"{who}; lease lost; config not re-run"
        if r.attempt >= r.max_attempts:
            return "failed", "lease_lost", f"{who}; no attempts left ({r.attempt})"
        return "queued", "lease_expired", f"{who}; task requeued"

    out = _fail_or_requeue(conn, rows, now, decide)
    if postgres and any(state == "queued" for _, state in out):
        conn.execute(sa.select(sa.func.pg_notify(NOTIFY_CHANNEL, "")))
    return ReapResult(
        requeued=tuple(i for i, s in out if s == "queued"),
        failed=tuple(i for i, s in out if s != "queued"),
    )


def expire_deadlines(conn: Connection, *, postgres: bool, now: float, grace_s: float) -> list[int]:
    """Fail running tasks past ``deadline_at + grace_s``; free their slots."""
    query = (
        sa.select(*_ROW_COLS)
        .where(tasks.c.state == "running", tasks.c.deadline_at + grace_s < now)
        .order_by(tasks.c.id)
        .limit(1000)
    )
    if postgres:
        query = query.with_for_update(skip_locked=True, key_share=True)
    rows = list(conn.execute(query))
    out = _fail_or_requeue(
        conn, rows, now, lambda r: ("failed", "deadline_exceeded", "task ran past its deadline")
    )
    return [i for i, _ in out]

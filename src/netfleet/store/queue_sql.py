"""Finishing attempts: complete (fenced), reap expired leases, fail overdue tasks;
worker-side task events.

Each frees the task's device slot in the same transaction that changes the task.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any, overload

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from netfleet.jobs.model import TaskState
from netfleet.jobs.retry import backoff_delay, should_retry
from netfleet.store import holds_sql
from netfleet.store import statements as st
from netfleet.store.interface import Completion, NewEvent, ReapResult, TaskOutcome
from netfleet.store.jobs_sql import SpecCache, apply_transitions
from netfleet.store.schema import task_events, tasks


@overload
def _text(value: str) -> str: ...
@overload
def _text(value: None) -> None: ...
def _text(value: str | None) -> str | None:
    """Text as stored: NUL characters (which PostgreSQL text cannot hold) become U+FFFD."""
    return value.replace("\x00", "\ufffd") if value and "\x00" in value else value


def _release(conn: Connection, per_device: dict[int, int]) -> None:
    """Give back ``n`` slots per device (in device order)."""
    if per_device:
        conn.execute(
            st.RELEASE_SLOTS, [{"p_d": d, "p_n": n} for d, n in sorted(per_device.items())]
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
    current = {r.id: r for r in conn.execute(st.running_tasks(postgres), {"p_ids": ids})}
    results: list[Completion | None] = []
    updates: list[dict[str, Any]] = []
    outputs: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    per_device: dict[int, int] = defaultdict(int)
    kept: dict[int, tuple[int, float]] = {}
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
                "p_t": task_id,
                "p_state": state,
                "p_run_at": run_at,
                "p_finished_at": None if state == "retrying" else now,
                "p_error": _text(outcome.error),
                "p_error_kind": outcome.error_kind,
            }
        )
        outputs += [
            {
                "task_id": task_id,
                "attempt": attempt,
                "seq": seq,
                "command": _text(res.command),
                "output": _text(res.output),
                "parsed": res.parsed,
                "ok": res.ok,
                "error": _text(res.error),
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
        if row.device_id is not None and outcome.keep_session:
            n, expires = kept.get(row.device_id, (0, 0.0))
            kept[row.device_id] = (n + 1, max(expires, row.lease_expires_at or now))
        elif row.device_id is not None:
            per_device[row.device_id] += 1
        changes[row.job_id][("running", state)] += 1
        results.append(Completion(task_id, state, run_at, "running"))
    if not updates:
        return results
    conn.execute(st.FINISH_TASK, updates)
    if outputs:
        conn.execute(st.INSERT_OUTPUTS, outputs)
    conn.execute(st.INSERT_EVENTS, events)
    if kept:
        holds_sql.lock_slots(conn, postgres, sorted({*per_device, *kept}))
        conn.execute(st.END_EXCLUSIVE, [{"p_d": d} for d in sorted(kept)])
        holds_sql.keep_sessions(conn, postgres=postgres, worker_id=worker_id, kept=kept, now=now)
    _release(conn, per_device)
    job_states = apply_transitions(conn, changes, now)
    if notify and postgres:
        conn.execute(st.NOTIFY)
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
                "p_t": r.id,
                "p_state": state,
                "p_run_at": now,
                "p_finished_at": None if state == "queued" else now,
                "p_error": message,
                "p_error_kind": kind,
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
    conn.execute(st.FINISH_TASK, updates)
    conn.execute(st.INSERT_EVENTS, events)
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
        conn.execute(st.NOTIFY)
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


def record_events(conn: Connection, worker_id: str, events: Sequence[NewEvent], now: float) -> None:
    """Append worker-side events; events of tasks that no longer exist are skipped."""
    ids = sorted({e.task_id for e in events})
    jobs_of = {
        r.id: r.job_id
        for r in conn.execute(sa.select(tasks.c.id, tasks.c.job_id).where(tasks.c.id.in_(ids)))
    }
    rows = [
        {
            "job_id": jobs_of[e.task_id],
            "task_id": e.task_id,
            "at": now,
            "kind": e.kind[:32],
            "message": e.message,
            "data": {**e.data, "worker": worker_id},
        }
        for e in events
        if e.task_id in jobs_of
    ]
    if rows:
        conn.execute(task_events.insert(), rows)

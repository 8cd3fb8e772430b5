"""Recovering attempts: requeue or fail tasks whose lease expired, fail overdue tasks.

Each frees the task's device slot in the same transaction that changes the task.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from netfleet.jobs.model import TaskState
from netfleet.store.records import ReapResult
from netfleet.store.schema import task_events, tasks
from netfleet.store.sql import bulk, marks, outbox
from netfleet.store.sql import statements as st
from netfleet.store.sql.completions import release_slots
from netfleet.store.sql.jobs import apply_transitions


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
                "p_task_id": r.id,
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
    bulk.insert_rows(conn, task_events, events)
    failed = {task_id for task_id, state in out if state == "failed"}
    wanted = outbox.wanted(rows[0])
    outbox.tasks_failed(conn, [e for e in events if e["task_id"] in failed], now, wanted)
    release_slots(conn, per_device)
    apply_transitions(conn, changes, now, wanted=wanted)
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
        sa.select(*_ROW_COLS, *outbox.rule_checks())
        .where(tasks.c.state == "running", tasks.c.lease_expires_at < now)
        .order_by(tasks.c.id)
        .limit(batch)
    )
    if postgres:
        query = query.with_for_update(skip_locked=True, key_share=True)
    rows = list(conn.execute(query))
    sent = marks.marked(conn, [(r.id, r.attempt) for r in rows if not r.repeatable])

    def decide(r: Row[Any]) -> tuple[TaskState, str, str]:
        who = f"lease of {r.lease_owner} expired"
        if r.cancel_requested:
            return "cancelled", "cancelled", f"{who}; cancelled"
        if not r.repeatable:
            if r.id in sent:
                return (
                    "failed",
                    marks.STATE_UNKNOWN,
                    f"{who}; {marks.state_unknown_message(sent[r.id])}",
                )
            if r.attempt >= marks.UNSENT_ATTEMPTS:
                return "failed", "lease_lost", f"{who}; no attempts left ({r.attempt})"
            return "queued", "lease_expired", f"{who}; no config line was sent: task requeued"
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
        sa.select(*_ROW_COLS, *outbox.rule_checks())
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

"""Finishing attempts: the fenced completion of a worker's results.

It frees the task's device slot (or turns it into a session hold) in the same
transaction that finishes the task.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace
from typing import Any, overload

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from netfleet.jobs.model import TaskState
from netfleet.jobs.retry import backoff_delay, should_retry
from netfleet.store.records import Completion, TaskOutcome
from netfleet.store.schema import task_events, task_outputs
from netfleet.store.sql import bulk, holds, marks, outbox
from netfleet.store.sql import statements as st
from netfleet.store.sql.jobs import SpecCache, apply_transitions


@overload
def _text(value: str) -> str: ...
@overload
def _text(value: None) -> None: ...
def _text(value: str | None) -> str | None:
    """Text as stored: NUL characters (which PostgreSQL text cannot hold) become U+FFFD."""
    return value.replace("\x00", "\ufffd") if value and "\x00" in value else value


def release_slots(conn: Connection, per_device: dict[int, int]) -> None:
    """Give back ``n`` slots per device (in device order)."""
    if per_device:
        conn.execute(
            st.RELEASE_SLOTS,
            [{"p_device_id": d, "p_count": n} for d, n in sorted(per_device.items())],
        )


def finish_tasks(conn: Connection, postgres: bool, updates: list[dict[str, Any]]) -> None:
    """``FINISH_TASK`` for each of ``updates``: one statement on PostgreSQL."""
    if not postgres or len(updates) == 1:
        conn.execute(st.FINISH_TASK, updates)
        return
    conn.execute(
        st.FINISH_TASKS_PG,
        {
            "p_ids": [u["p_task_id"] for u in updates],
            "p_states": [u["p_state"] for u in updates],
            "p_run_ats": [u["p_run_at"] for u in updates],
            "p_finished_ats": [u["p_finished_at"] for u in updates],
            "p_errors": [u["p_error"] for u in updates],
            "p_error_kinds": [u["p_error_kind"] for u in updates],
        },
    )


def _unsent_rules(
    row: Any, attempt: int, outcome: TaskOutcome, sent: dict[int, str]
) -> tuple[TaskOutcome, int]:
    """A failed config attempt that may not repeat: by its durable mark, an attempt that
    sent nothing does not count (retry allowed); one that began sending never retries,
    and one stopped by a shutdown is ``config_state_unknown``."""
    if row.repeatable:
        return outcome, row.max_attempts
    if row.id in sent:
        if outcome.error_kind == "worker_shutdown":
            message = marks.state_unknown_message(sent[row.id])
            outcome = replace(outcome, error=message, error_kind=marks.STATE_UNKNOWN)
        return replace(outcome, retryable=False), row.max_attempts
    if outcome.retryable and attempt < marks.UNSENT_ATTEMPTS:
        return outcome, max(row.max_attempts, attempt + 1)
    return outcome, row.max_attempts


def _keep(
    kept: dict[int, tuple[int, float, int]],
    freed: dict[int, int],
    device_id: int,
    expires: float,
    epoch: int,
) -> None:
    """Count one kept session of ``device_id`` in ``epoch``; a newer epoch in the same
    batch wins (slots kept in older ones are freed: the worker stopped counting them)."""
    n, until, current = kept.get(device_id, (0, 0.0, epoch))
    if epoch < current:
        freed[device_id] += 1
        return
    if epoch > current:
        freed[device_id] += n
        n, until = 0, 0.0
    kept[device_id] = (n + 1, max(until, expires), epoch)


@functools.cache
def _fenced(postgres: bool, checks: tuple[sa.Label[int], ...]) -> sa.Select[Any]:
    """The completion's first query: the fenced tasks with ``checks``
    (``outbox.rule_checks``), built once per pair."""
    return st.running_tasks(postgres).add_columns(*checks)


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
    query = _fenced(postgres, tuple(outbox.rule_checks()))
    current = {r.id: r for r in conn.execute(query, {"p_ids": ids})}
    results: list[Completion | None] = []
    updates: list[dict[str, Any]] = []
    outputs: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    per_device: dict[int, int] = defaultdict(int)
    kept: dict[int, tuple[int, float, int]] = {}
    changes: dict[int, dict[tuple[str, str], int]] = defaultdict(lambda: defaultdict(int))
    done: set[int] = set()
    notify = False
    sent = marks.marked(
        conn,
        [
            (task_id, attempt)
            for task_id, attempt, o in items
            if o.status == "failed" and task_id in current and not current[task_id].repeatable
        ],
    )
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
            outcome, max_attempts = _unsent_rules(row, attempt, outcome, sent)
            if should_retry(
                options,
                attempt=attempt,
                max_attempts=max_attempts,
                transient=outcome.transient,
                retryable=outcome.retryable,
            ):
                state = "retrying"
                run_at = now + backoff_delay(options, attempt)
                notify = True
        updates.append(
            {
                "p_task_id": task_id,
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
            _keep(kept, per_device, row.device_id, row.lease_expires_at or now, outcome.hold_epoch)
        elif row.device_id is not None:
            per_device[row.device_id] += 1
        changes[row.job_id][("running", state)] += 1
        results.append(Completion(task_id, state, run_at, "running"))
    if not updates:
        return results
    finish_tasks(conn, postgres, updates)
    bulk.insert_rows(conn, task_outputs, outputs)
    wanted = outbox.wanted(next(iter(current.values())))
    failed = outbox.failed_row([e for e in events if e["kind"] == "failed"], now, wanted)
    ahead = outbox.ahead(failed) if failed is not None and postgres else None
    if not bulk.insert_rows(conn, task_events, events, ahead=ahead) and failed is not None:
        outbox.insert_row(conn, failed)
    if kept:
        holds.lock_slots(conn, postgres, sorted({*per_device, *kept}))
        conn.execute(st.end_exclusive(postgres), {"p_ids": sorted(kept)})
        holds.keep_sessions(conn, postgres=postgres, worker_id=worker_id, kept=kept, now=now)
    release_slots(conn, per_device)
    job_states = apply_transitions(conn, changes, now, wanted=wanted)
    if notify and postgres:
        conn.execute(st.NOTIFY)
    return [
        None
        if c is None
        else Completion(c.task_id, c.state, c.next_run_at, job_states[current[c.task_id].job_id])
        for c in results
    ]

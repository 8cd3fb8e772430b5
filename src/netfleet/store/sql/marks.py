"""Durable progress marks of config attempts (``config_marks``).

A config attempt writes its mark before its first line goes to the device. The
mark decides what happens to an attempt that did not finish normally: without
one nothing was sent, so the task may run again even if its config is not
idempotent (the attempt does not count); with one, lines may have been applied
and the task fails as ``config_state_unknown``.
"""

from __future__ import annotations

from collections.abc import Collection

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from netfleet.store.schema import tasks
from netfleet.store.schema_reliability import config_marks

UNSENT_ATTEMPTS = 10
"""Attempts that sent nothing are not counted, up to this many (a crash loop ends)."""

STATE_UNKNOWN = "config_state_unknown"


def mark(
    conn: Connection,
    *,
    postgres: bool,
    task_id: int,
    attempt: int,
    worker_id: str,
    first_line: str,
    now: float,
) -> bool:
    """Record that ``worker_id``'s attempt is about to send config; False (nothing
    written) unless it still holds the task."""
    held = conn.execute(
        sa.select(tasks.c.id).where(
            tasks.c.id == task_id,
            tasks.c.state == "running",
            tasks.c.lease_owner == worker_id,
            tasks.c.attempt == attempt,
        )
    ).first()
    if held is None:
        return False
    values = {
        "task_id": task_id,
        "attempt": attempt,
        "worker_id": worker_id,
        "marked_at": now,
        "first_line": first_line[:500],
    }
    insert = (postgresql.insert if postgres else sqlite.insert)(config_marks)
    conn.execute(
        insert.on_conflict_do_update(
            index_elements=[config_marks.c.task_id],
            set_={k: insert.excluded[k] for k in values if k != "task_id"},
        ),
        values,
    )
    return True


def marked(conn: Connection, keys: Collection[tuple[int, int]]) -> dict[int, str]:
    """Of ``(task_id, attempt)`` pairs, those with a mark: task id -> first line."""
    if not keys:
        return {}
    wanted = dict(keys)
    rows = conn.execute(
        sa.select(config_marks.c.task_id, config_marks.c.attempt, config_marks.c.first_line).where(
            config_marks.c.task_id.in_(sorted(wanted))
        )
    )
    return {r.task_id: r.first_line for r in rows if wanted.get(r.task_id) == r.attempt}


def state_unknown_message(first_line: str) -> str:
    return (
        f"configuration state unknown: the attempt began sending config (first line "
        f"{first_line!r}) and did not finish; lines may have been applied: check the device"
    )

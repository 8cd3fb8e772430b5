"""Task events written by workers (connected, command, ...); the store writes the
state-change events itself, in the transactions that change the state."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from netfleet.store.records import NewEvent
from netfleet.store.schema import task_events, tasks
from netfleet.store.sql import outbox
from netfleet.store.sql import statements as st


def record_events(conn: Connection, worker_id: str, events: Sequence[NewEvent], now: float) -> None:
    """Append worker-side events; events of tasks that no longer exist are skipped."""
    ids = sorted({e.task_id for e in events})
    postgres = conn.dialect.name == "postgresql"
    query = sa.select(tasks.c.id, tasks.c.job_id).where(st.one_of(tasks.c.id, "ids", postgres))
    jobs_of = {r.id: r.job_id for r in conn.execute(query, {"p_ids": ids})}
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
        outbox.from_task_events(conn, rows, now)

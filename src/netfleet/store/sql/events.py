"""Task events written by workers (connected, command, ...); the store writes the
state-change events itself, in the transactions that change the state."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from netfleet.store.records import NewEvent
from netfleet.store.schema import task_events, tasks
from netfleet.store.sql import bulk, outbox
from netfleet.store.sql import statements as st

_COLUMNS = ("task_id", "at", "kind", "message", "data")
_JSON = bulk.json_columns(task_events, _COLUMNS)
_INSERT_PG = (
    f"INSERT INTO task_events (job_id, {', '.join(_COLUMNS)}) "
    f"SELECT t.job_id, {bulk.selected(task_events, _COLUMNS)} "
    f"FROM {bulk.recordset(task_events, _COLUMNS)} "
    "JOIN LATERAL (SELECT tasks.job_id FROM tasks WHERE tasks.id = r.task_id LIMIT 1) AS t ON true "
    "ORDER BY r.n"
)
"""PostgreSQL: worker events with their task's job, those of missing tasks left out. The
lookup is a LATERAL with LIMIT so that it stays one index probe per event: the planner
expects 100 rows of any recordset and would rather hash-join a seq scan of ``tasks``."""


def _jobs_of(conn: Connection, postgres: bool, task_ids: set[int]) -> dict[int, int]:
    query = sa.select(tasks.c.id, tasks.c.job_id).where(st.one_of(tasks.c.id, "ids", postgres))
    return {r.id: r.job_id for r in conn.execute(query, {"p_ids": sorted(task_ids)})}


def _outbound(row: dict[str, Any]) -> bool:
    """Whether ``outbox.from_task_events`` passes the event row on."""
    return "." in row["kind"] or "." in str((row["data"] or {}).get("type") or "")


def record_events(conn: Connection, worker_id: str, events: Sequence[NewEvent], now: float) -> None:
    """Append worker-side events; events of tasks that no longer exist are skipped."""
    rows: list[dict[str, Any]] = [
        {
            "task_id": e.task_id,
            "at": now,
            "kind": e.kind[:32],
            "message": e.message,
            "data": {**e.data, "worker": worker_id},
        }
        for e in events
    ]
    postgres = conn.dialect.name == "postgresql"
    outbound = [r for r in rows if _outbound(r)]
    if postgres and not outbound:
        try:
            doc = bulk.document(rows, _COLUMNS, _JSON)
        except (ValueError, TypeError):
            pass  # not JSON: the path below stores or refuses it as before
        else:
            conn.exec_driver_sql(_INSERT_PG, {"doc": doc})
            return
    jobs_of = _jobs_of(conn, postgres, {r["task_id"] for r in rows})
    kept = [{"job_id": jobs_of[r["task_id"]], **r} for r in rows if r["task_id"] in jobs_of]
    if kept:
        bulk.insert_rows(conn, task_events, kept)
        outbox.from_task_events(conn, [r for r in kept if _outbound(r)], now)

"""Worker registry SQL: registration, heartbeats, listing."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from netfleet.core.errors import NotFound
from netfleet.store.records import WorkerRecord, WorkerState
from netfleet.store.schema import workers
from netfleet.store.schema_reliability import hold_epochs
from netfleet.store.sql.holds import release_holds


def _record(row: Row[Any]) -> WorkerRecord:
    m = row._mapping
    return WorkerRecord(
        id=m["id"],
        hostname=m["hostname"],
        pid=m["pid"],
        started_at=m["started_at"],
        heartbeat_at=m["heartbeat_at"],
        state=m["state"],
        concurrency=m["concurrency"],
        stats=dict(m["stats"] or {}),
    )


def register(
    conn: Connection,
    worker_id: str,
    hostname: str,
    pid: int,
    concurrency: int,
    now: float,
    *,
    postgres: bool = False,
) -> WorkerRecord:
    values = {
        "hostname": hostname,
        "pid": pid,
        "started_at": now,
        "heartbeat_at": now,
        "state": "starting",
        "concurrency": concurrency,
        "stats": {},
    }
    updated = conn.execute(workers.update().where(workers.c.id == worker_id).values(**values))
    if updated.rowcount == 0:
        conn.execute(workers.insert().values(id=worker_id, **values))
    else:  # a restart under the same id: the old process's idle sessions are gone
        release_holds(conn, postgres=postgres, worker_id=worker_id, holds=None)
        conn.execute(hold_epochs.delete().where(hold_epochs.c.worker_id == worker_id))
    row = conn.execute(sa.select(workers).where(workers.c.id == worker_id)).one()
    return _record(row)


def heartbeat(
    conn: Connection, worker_id: str, state: WorkerState, stats: dict[str, Any] | None, now: float
) -> None:
    values: dict[str, Any] = {"heartbeat_at": now, "state": state}
    if stats is not None:
        values["stats"] = stats
    updated = conn.execute(workers.update().where(workers.c.id == worker_id).values(**values))
    if updated.rowcount == 0:
        raise NotFound(f"worker {worker_id!r} is not registered")


def list_workers(conn: Connection, alive_after: float | None) -> list[WorkerRecord]:
    query = sa.select(workers).order_by(workers.c.id)
    if alive_after is not None:
        query = query.where(workers.c.heartbeat_at >= alive_after)
    return [_record(r) for r in conn.execute(query)]

"""Contract: ``bulk.insert_rows`` stores exactly what SQLAlchemy's INSERT stores (NULLs,
JSON values, unicode, long texts, float times), in the rows' order, on both backends;
worker events keep their job and skip tasks that are gone."""

from __future__ import annotations

import math
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from netfleet.store import SqlStore
from netfleet.store.records import NewEvent
from netfleet.store.schema import session_holds, task_events, task_outputs, tasks
from netfleet.store.sql import bulk
from tests.support.store import add_devices, commands

NOW = 1_733_212_345.123_456_7
LONG = "".join(f'line {i}: GigabitEthernet0/{i} up \\ "quoted" \t tab\r\n' for i in range(20_000))
JSON_VALUES: list[Any] = [
    None,
    {"b": 1, "a": [1.5, True, None], "nested": {"é": "ü ✓ 😀"}},
    "a JSON string",
    [1, 2, 3],
    {"nul": "a\u0000b", "quote": '"', "backslash": "\\", "newline": "\n"},
    0,
]


async def _task(store: SqlStore) -> tuple[int, int]:
    await add_devices(store, "r1")
    job = await store.jobs.submit(commands("r1"))
    (t,) = await store.claims.claim("w", 1, lease_s=30)
    return job.id, t.task_id


def _events(job: int, task: int, base: int) -> list[dict[str, Any]]:
    return [
        {
            "job_id": job,
            "task_id": task if i % 2 else None,
            "at": NOW + i / 7,
            "kind": f"k{base + i}",
            "message": ["", "ünïcødé ✓ 😀", LONG, "'; DROP TABLE x; --", "%(doc)s", "plain"][i],
            "data": value,
        }
        for i, value in enumerate(JSON_VALUES)
    ]


def _outputs(task: int, attempt: int) -> list[dict[str, Any]]:
    return [
        {
            "task_id": task,
            "attempt": attempt,
            "seq": i,
            "command": "show version",
            "output": LONG if i == 2 else "ünïcødé ✓",
            "parsed": value,
            "ok": i % 2 == 0,
            "error": None if i % 2 == 0 else "error text",
            "error_kind": None,
            "started_at": NOW + i,
            "duration_ms": 0.1 + i,
        }
        for i, value in enumerate(JSON_VALUES)
    ]


def _stored(
    conn: Connection, table: sa.Table, where: sa.ColumnElement[bool]
) -> list[tuple[Any, ...]]:
    """Every column but the id, JSON also as its stored text and whether it is SQL NULL."""
    extra = [
        x
        for c in table.c
        if isinstance(c.type, sa.JSON)
        for x in (sa.cast(c, sa.Text), c.is_(None))
    ]
    cols = [c for c in table.c if c.name != "id"]
    return [
        tuple(r) for r in conn.execute(sa.select(*cols, *extra).where(where).order_by(table.c.id))
    ]


async def test_rows_are_stored_as_sqlalchemy_stores_them(store: SqlStore) -> None:
    job, task = await _task(store)

    def write(conn: Connection) -> None:
        conn.execute(task_events.insert(), _events(job, task, 0))
        bulk.insert_rows(conn, task_events, _events(job, task, 100))
        conn.execute(task_outputs.insert(), _outputs(task, 1))
        bulk.insert_rows(conn, task_outputs, _outputs(task, 2))

    def read(conn: Connection) -> tuple[list[Any], ...]:
        ev, out = task_events.c, task_outputs.c
        return (
            _stored(conn, task_events, ev.kind.in_([f"k{i}" for i in range(6)])),
            _stored(conn, task_events, ev.kind.in_([f"k{100 + i}" for i in range(6)])),
            _stored(conn, task_outputs, out.attempt == 1),
            _stored(conn, task_outputs, out.attempt == 2),
        )

    await store.db.run(write)
    old_events, new_events, old_outputs, new_outputs = await store.db.run(read, write=False)
    assert len(new_events) == len(JSON_VALUES)
    assert len(new_outputs) == len(JSON_VALUES)
    kind = [c.name for c in task_events.c if c.name != "id"].index("kind")
    assert [r[kind] for r in new_events] == [f"k{100 + i}" for i in range(6)]  # in order
    assert [r[:kind] + r[kind + 1 :] for r in new_events] == [
        r[:kind] + r[kind + 1 :] for r in old_events
    ]
    attempt = [c.name for c in task_outputs.c if c.name != "id"].index("attempt")
    assert [r[:attempt] + r[attempt + 1 :] for r in new_outputs] == [
        r[:attempt] + r[attempt + 1 :] for r in old_outputs
    ]
    data = [c.name for c in task_events.c if c.name != "id"].index("data")
    assert [r[data] for r in new_events] == JSON_VALUES
    at = [c.name for c in task_events.c if c.name != "id"].index("at")
    assert [r[at] for r in new_events] == [NOW + i / 7 for i in range(6)]


async def test_values_json_cannot_carry_are_stored_as_before(store: SqlStore) -> None:
    _, task = await _task(store)
    rows = _outputs(task, 3)[:1]
    rows[0]["duration_ms"] = math.inf

    def write(conn: Connection) -> float:
        bulk.insert_rows(conn, task_outputs, rows)
        return float(conn.execute(sa.select(task_outputs.c.duration_ms)).scalar_one())

    assert await store.db.run(write) == math.inf


async def test_conflicting_rows_update_the_given_columns(store: SqlStore) -> None:
    await add_devices(store, "r1", "r2")
    ids = [d.id for d in (await store.devices.list()).items]
    h = session_holds.c

    def row(device: int, held: int, epoch: int) -> dict[str, Any]:
        return {"worker_id": "w", "device_id": device, "held": held, "expires_at": NOW,
                "epoch": epoch, "term": 0}  # fmt: skip

    def write(conn: Connection) -> list[tuple[Any, ...]]:
        bulk.insert_rows(conn, session_holds, [row(ids[0], 1, 1)])
        bulk.insert_rows(
            conn,
            session_holds,
            [row(ids[0], 3, 2), row(ids[1], 2, 2)],
            conflict=("worker_id", "device_id"),
            update=("held", "epoch"),
        )
        query = sa.select(h.device_id, h.held, h.epoch, h.expires_at).order_by(h.device_id)
        return [tuple(r) for r in conn.execute(query)]

    assert await store.db.run(write) == [(ids[0], 3, 2, NOW), (ids[1], 2, 2, NOW)]


async def test_worker_events_keep_their_job_and_skip_tasks_that_are_gone(
    store: SqlStore,
) -> None:
    job, task = await _task(store)
    events = [
        NewEvent(task, "connected", "new session", {"new": 1}),
        NewEvent(10_000, "command", "of a task that is gone"),
        NewEvent(task, "command", "show version", {"ms": 1.5}),
    ]
    await store.completions.record_events("w", events)
    stored = await store.jobs.events(job)
    assert [(e.kind, e.message, e.data) for e in stored[-2:]] == [
        ("connected", "new session", {"new": 1, "worker": "w"}),
        ("command", "show version", {"ms": 1.5, "worker": "w"}),
    ]

    def jobs_of(conn: Connection) -> set[Any]:
        rows = conn.execute(sa.select(task_events.c.job_id, tasks.c.job_id).join(tasks))
        return {tuple(r) for r in rows}

    assert await store.db.run(jobs_of, write=False) == {(job, job)}

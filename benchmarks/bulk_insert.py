"""Batched INSERTs on PostgreSQL: ``store.sql.bulk.insert_rows`` vs SQLAlchemy's VALUES.

Each batch of rows (task events, task outputs with a ``show version``-sized text) is
written in a transaction that is rolled back, once by the store's previous path
(``conn.execute(table.insert(), rows)`` with multi-row ``VALUES``, the baseline) and
once by ``insert_rows`` (one JSON document), alternately. Reported per batch: the
client CPU of this thread (what a worker's store thread pays, reliable on a loaded
machine) and the wall time (round trip and server included).

    .venv/bin/python benchmarks/bulk_insert.py           # batches of 50 and 250 rows
    .venv/bin/python benchmarks/bulk_insert.py --smoke   # a few seconds (CI)
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
import uuid
from collections.abc import Callable
from typing import Any

import psycopg
import sqlalchemy as sa
from cryptography.fernet import Fernet
from sqlalchemy.engine import Connection

from netfleet.core.models import Credential, DeviceSpec
from netfleet.jobs.model import JobSpec
from netfleet.store import open_store
from netfleet.store.engine import create_engine
from netfleet.store.schema import task_events, task_outputs, tasks
from netfleet.store.sql import bulk

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"
OUTPUT = "\n".join(f"Cisco IOS Software, line {i}: uptime is 4 weeks, 2 days" for i in range(30))


async def _setup(url: str, n: int) -> None:
    store = await open_store(url, secret_key=Fernet.generate_key().decode())
    try:
        names = [f"d{i:04d}" for i in range(n)]
        cred = (Credential("admin", password="pw", name="lab"),)
        await store.devices.import_many(
            [DeviceSpec(name=x, host="127.0.0.1", platform="cisco_ios", credentials=cred)
             for x in names]
        )  # fmt: skip
        spec = {"targets": {"devices": names}, "commands": ["show version"]}
        await store.jobs.submit(JobSpec.model_validate(spec))
    finally:
        await store.close()


def _events(ids: list[tuple[int, int]], now: float) -> list[dict[str, Any]]:
    return [
        {"job_id": job, "task_id": task, "at": now, "kind": "command",
         "message": "show version", "data": {"worker": "w-1", "attempt": 1, "ms": 12.5}}
        for job, task in ids
    ]  # fmt: skip


def _outputs(ids: list[tuple[int, int]], now: float) -> list[dict[str, Any]]:
    return [
        {"task_id": task, "attempt": 1, "seq": 0, "command": "show version", "output": OUTPUT,
         "parsed": None, "ok": True, "error": None, "error_kind": None, "started_at": now,
         "duration_ms": 12.5}
        for _, task in ids
    ]  # fmt: skip


def _old(conn: Connection, table: sa.Table, rows: list[dict[str, Any]]) -> None:
    conn.execute(table.insert(), rows)


def _new(conn: Connection, table: sa.Table, rows: list[dict[str, Any]]) -> None:
    bulk.insert_rows(conn, table, rows)


Way = Callable[[Connection, sa.Table, list[dict[str, Any]]], None]


def _run(
    engine: sa.Engine, way: Way, table: sa.Table, rows: list[dict[str, Any]]
) -> tuple[float, float]:
    """(client CPU, wall) seconds of one batch, in a transaction rolled back."""
    with engine.connect() as conn:
        conn.begin()
        cpu, wall = time.thread_time(), time.perf_counter()
        way(conn, table, rows)
        cpu, wall = time.thread_time() - cpu, time.perf_counter() - wall
        conn.rollback()
    return cpu, wall


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--smoke", action="store_true", help="tiny numbers (a few seconds)")
    p.add_argument("--repeats", type=int, default=40)
    args = p.parse_args(argv)
    repeats = 3 if args.smoke else args.repeats
    sizes = (20,) if args.smoke else (50, 250)
    name = f"nf_bulk_{uuid.uuid4().hex[:8]}"
    try:
        admin = psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError:
        print("PostgreSQL at 127.0.0.1:5432 unreachable: skipped", file=sys.stderr)
        return 0
    admin.execute(f"CREATE DATABASE {name}")
    url = f"postgresql://postgres@127.0.0.1:5432/{name}"
    results = []
    try:
        asyncio.run(_setup(url, max(sizes)))
        engine, _ = create_engine(url, threads=1)
        with engine.connect() as conn:
            ids = [(r.job_id, r.id) for r in conn.execute(sa.select(tasks.c.job_id, tasks.c.id))]
        for size in sizes:
            for label, table, make in (("task_events", task_events, _events),
                                       ("task_outputs", task_outputs, _outputs)):  # fmt: skip
                rows = make(ids[:size], time.time())
                totals = {"old": [0.0, 0.0], "new": [0.0, 0.0]}
                for i in range(repeats + 5):  # 5 warm-ups (psycopg prepares at the 5th)
                    for way, key in ((_old, "old"), (_new, "new")):
                        cpu, wall = _run(engine, way, table, rows)
                        if i >= 5:
                            totals[key][0] += cpu
                            totals[key][1] += wall
                results.append((label, size, totals))
        engine.dispose()
    finally:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.close()
    print(f"\nBatched INSERT on PostgreSQL, ms per batch (mean of {repeats})")
    header = (f"{'table':<14}{'rows':>6}{'VALUES cpu':>12}{'json cpu':>10}{'ratio':>7}"
              f"{'VALUES wall':>13}{'json wall':>11}{'ratio':>7}")  # fmt: skip
    print(header)
    print("-" * len(header))
    for label, size, t in results:
        oc, ow = (x * 1000 / repeats for x in t["old"])
        nc, nw = (x * 1000 / repeats for x in t["new"])
        print(f"{label:<14}{size:>6}{oc:>12.2f}{nc:>10.2f}{nc / oc:>7.2f}"
              f"{ow:>13.2f}{nw:>11.2f}{nw / ow:>7.2f}")  # fmt: skip
    print("ratio = insert_rows / VALUES (below 1.00: cheaper)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

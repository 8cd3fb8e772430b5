"""Queue throughput: claim + complete of no-op tasks, netfleet's store vs a bare claim loop.

For each backend (SQLite file, PostgreSQL) and 1 or 4 worker processes, N tasks
are queued, then the workers claim batches and complete them until the queue
is empty. The baseline, measured in the same run, is the simplest correct
claim loop on the same database: one table, ``UPDATE ... RETURNING`` with
``BEGIN IMMEDIATE`` (SQLite) or ``FOR UPDATE SKIP LOCKED`` (PostgreSQL), and
no slots, leases, outputs, events or job counters.

    .venv/bin/python benchmarks/queue_throughput.py            # 20,000 tasks per run
    .venv/bin/python benchmarks/queue_throughput.py --smoke    # a few seconds (CI)
"""

from __future__ import annotations

import os
import sys

# This file is named like the stdlib ``queue`` module that multiprocessing imports:
# drop its directory from the import path before anything imports ``queue``.
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _HERE]

import argparse  # noqa: E402
import asyncio  # noqa: E402
import multiprocessing as mp  # noqa: E402
import sqlite3  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from collections.abc import Callable  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
DEVICES = 200
"""Tasks are spread over this many devices (fewer with --smoke)."""


@dataclass
class Run:
    backend: str
    workers: int
    baseline: float
    batched: float
    single: float | None


# --- the baseline: a bare claim loop ----------------------------------------------


def _baseline_setup(url: str, n: int) -> None:
    rows = [(i, "queued") for i in range(1, n + 1)]
    if url.startswith("sqlite"):
        conn = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("CREATE TABLE q (id INTEGER PRIMARY KEY, state TEXT, owner TEXT)")
        conn.execute("CREATE INDEX q_ready ON q (id) WHERE state = 'queued'")
        conn.execute("BEGIN")
        conn.executemany("INSERT INTO q (id, state) VALUES (?, ?)", rows)
        conn.execute("COMMIT")
        conn.close()
        return
    import psycopg

    with psycopg.connect(url) as conn:
        conn.execute("CREATE TABLE q (id BIGINT PRIMARY KEY, state TEXT, owner TEXT)")
        conn.execute("CREATE INDEX q_ready ON q (id) WHERE state = 'queued'")
        with conn.cursor() as cur:
            cur.executemany("INSERT INTO q (id, state) VALUES (%s, %s)", rows)


def _baseline_worker(url: str, batch: int, name: str) -> int:
    done = 0
    if url.startswith("sqlite"):
        conn = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None, timeout=30)
        conn.execute("PRAGMA synchronous=NORMAL")
        while True:
            conn.execute("BEGIN IMMEDIATE")
            ids = conn.execute(
                "UPDATE q SET state = 'running', owner = ? WHERE id IN "
                "(SELECT id FROM q WHERE state = 'queued' ORDER BY id LIMIT ?) RETURNING id",
                (name, batch),
            ).fetchall()
            conn.execute("COMMIT")
            if not ids:
                return done
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany(
                "UPDATE q SET state = 'done' WHERE id = ? AND owner = ?",
                [(i, name) for (i,) in ids],
            )
            conn.execute("COMMIT")
            done += len(ids)
    import psycopg

    with psycopg.connect(url) as conn:
        while True:
            with conn.transaction():
                ids = conn.execute(
                    "UPDATE q SET state = 'running', owner = %s WHERE id IN (SELECT id FROM q "
                    "WHERE state = 'queued' ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED) "
                    "RETURNING id",
                    (name, batch),
                ).fetchall()
            if not ids:
                return done
            with conn.transaction():
                conn.execute(
                    "UPDATE q SET state = 'done' WHERE id = ANY(%s) AND owner = %s",
                    ([i for (i,) in ids], name),
                )
            done += len(ids)


# --- netfleet ------------------------------------------------------------------


async def _netfleet_setup(url: str, key: bytes, n: int, devices: int) -> None:
    from netfleet.core.models import Credential, DeviceSpec
    from netfleet.jobs.model import JobSpec
    from netfleet.store import open_store

    store = await open_store(url, secret_key=key)
    try:
        names = [f"d{i:04d}" for i in range(devices)]
        await store.devices.import_many(
            [
                DeviceSpec(
                    name=name,
                    host="127.0.0.1",
                    platform="cisco_ios",
                    credentials=(Credential("admin", password="pw", name="lab"),),
                    max_sessions=1000,
                )
                for name in names
            ]
        )
        for start in range(0, n, devices):
            targets = names[: min(devices, n - start)]
            spec = {"targets": {"devices": targets}, "commands": ["show version"]}
            await store.jobs.submit(JobSpec.model_validate(spec))
    finally:
        await store.close()


async def _netfleet_loop(url: str, key: bytes, batch: int, name: str, single: bool) -> int:
    from netfleet.store import open_store
    from netfleet.store.records import TaskOutcome

    ok = TaskOutcome("succeeded")
    store = await open_store(url, secret_key=key, migrate=False)
    done = 0
    try:
        while claimed := await store.claims.claim(name, batch, lease_s=60):
            if single:
                for task in claimed:
                    await store.completions.complete(task.task_id, name, task.attempt, ok)
            else:
                await store.completions.complete_many(
                    name, [(t.task_id, t.attempt, ok) for t in claimed]
                )
            done += len(claimed)
    finally:
        await store.close()
    return done


def _netfleet_worker(url: str, key: bytes, batch: int, name: str, single: bool) -> int:
    return asyncio.run(_netfleet_loop(url, key, batch, name, single))


# --- harness -------------------------------------------------------------------


def _child(ready: Any, go: Any, out: Any, fn: Callable[..., int], args: tuple[Any, ...]) -> None:
    import psycopg  # noqa: F401  (import everything before the clock starts)

    import netfleet.store.sql_store  # noqa: F401

    ready.put(None)
    go.wait()
    start = time.perf_counter()
    done = fn(*args)
    out.put((start, time.perf_counter(), done))


def _timed(workers: int, fn: Callable[..., int], args: Callable[[int], tuple[Any, ...]]) -> float:
    """Run ``fn`` in ``workers`` processes started together; tasks per second overall."""
    ctx = mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")
    ready, go, out = ctx.Queue(), ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=_child, args=(ready, go, out, fn, args(i))) for i in range(workers)]
    for p in procs:
        p.start()
    for _ in procs:
        ready.get(timeout=120)
    go.set()
    results = [out.get(timeout=600) for _ in procs]
    for p in procs:
        p.join()
    begin = min(r[0] for r in results)
    end = max(r[1] for r in results)
    return sum(r[2] for r in results) / (end - begin)


class _Databases:
    """Fresh databases per measurement: SQLite files in a temp dir, PostgreSQL databases."""

    def __init__(self) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix="netfleet-bench-")
        self._pg: list[str] = []

    def new(self, backend: str) -> str:
        name = f"netfleet_bench_{uuid.uuid4().hex[:10]}"
        if backend == "sqlite":
            return f"sqlite:///{Path(self._tmp.name) / name}.db"
        import psycopg

        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        self._pg.append(name)
        return f"postgresql://postgres@127.0.0.1:5432/{name}"

    def close(self) -> None:
        if self._pg:
            import psycopg

            with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
                for name in self._pg:
                    conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        self._tmp.cleanup()


def _postgres_up() -> bool:
    try:
        import psycopg

        psycopg.connect(PG_ADMIN, connect_timeout=2).close()
    except Exception:
        return False
    return True


def measure(
    backend: str,
    workers: int,
    n: int,
    batch: int,
    devices: int,
    dbs: _Databases,
    *,
    one_by_one: bool = True,
) -> Run:
    from cryptography.fernet import Fernet

    key = Fernet.generate_key()
    url = dbs.new(backend)
    _baseline_setup(url, n)
    baseline = _timed(workers, _baseline_worker, lambda i: (url, batch, f"b{i}"))
    rates: list[float | None] = [None, None]
    for index, single in enumerate((False, True) if one_by_one else (False,)):
        nf_url = dbs.new(backend)
        asyncio.run(_netfleet_setup(nf_url, key, n, devices))
        rates[index] = _timed(workers, _netfleet_worker, _args_of(nf_url, key, batch, single))
    assert rates[0] is not None
    return Run(backend, workers, baseline, rates[0], rates[1])


def _args_of(url: str, key: bytes, batch: int, single: bool) -> Callable[[int], tuple[Any, ...]]:
    return lambda i: (url, key, batch, f"w{i}", single)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--smoke", action="store_true", help="500 tasks, batch completion only (CI)"
    )
    parser.add_argument("--tasks", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=100, help="claim(limit=...)")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--workers", default="1,4")
    args = parser.parse_args(argv)
    n = 500 if args.smoke else args.tasks
    devices = 20 if args.smoke else DEVICES
    backends = args.backends.split(",")
    if "postgresql" in backends and not _postgres_up():
        print("PostgreSQL at 127.0.0.1:5432 unreachable: skipped", file=sys.stderr)
        backends.remove("postgresql")
    dbs = _Databases()
    runs = []
    try:
        for backend in backends:
            for workers in (int(w) for w in args.workers.split(",")):
                runs.append(
                    measure(
                        backend, workers, n, args.batch, devices, dbs, one_by_one=not args.smoke
                    )
                )
    finally:
        dbs.close()
    print(
        f"\nQueue throughput: {n} no-op tasks on {devices} devices, "
        f"claim(limit={args.batch}), tasks/s"
    )
    header = (
        f"{'backend':<11}{'workers':>8}{'bare loop':>11}{'netfleet batch':>16}"
        f"{'ratio':>7}{'netfleet 1-by-1':>17}{'ratio':>7}"
    )
    print(header)
    print("-" * len(header))
    for r in runs:
        single = "-" if r.single is None else f"{r.single:,.0f}"
        single_ratio = "-" if r.single is None else f"{r.single / r.baseline:.2f}"
        print(
            f"{r.backend:<11}{r.workers:>8}{r.baseline:>11,.0f}{r.batched:>16,.0f}"
            f"{r.batched / r.baseline:>7.2f}{single:>17}{single_ratio:>7}"
        )
    print("ratio = netfleet / bare loop (1.00 = as fast as the bare loop)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Run the ``netfleet`` command line under cProfile, for benchmarks (``NETFLEET_BENCH_PROFILE``).

    python benchmarks/harness/profiled.py OUT_PREFIX worker --db URL ...

Nothing is profiled until SIGUSR1 (so imports and start-up stay out); SIGUSR2 stops
and writes ``OUT_PREFIX.main.prof`` (the event loop's thread) and
``OUT_PREFIX.store.prof`` (the store's threads: every transaction, merged); read them
with ``python -m pstats``. ``OUT_PREFIX.sql.txt`` lists the statements run meanwhile:
count, rows of parameters, and wall time as the store thread saw it (round trip included).
``NETFLEET_BENCH_EXPLAIN_MS=N`` (PostgreSQL, superuser) also loads ``auto_explain`` in the
worker's sessions: plans of statements slower than N ms go to the server's log.
"""

from __future__ import annotations

import cProfile
import os
import signal
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from netfleet.cli.app import main
from netfleet.store.database import Database

_on = threading.Event()
_main = cProfile.Profile()
_store: list[cProfile.Profile] = []
_local = threading.local()
_transaction = Database._transaction
_sql: dict[str, list[float]] = defaultdict(lambda: [0, 0, 0.0])
_sql_lock = threading.Lock()


@sa.event.listens_for(sa.engine.Engine, "before_cursor_execute")
def _before(conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool) -> None:
    conn.info["bench_t0"] = time.perf_counter()


@sa.event.listens_for(sa.engine.Engine, "after_cursor_execute")
def _after(conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool) -> None:
    if not _on.is_set():
        return
    elapsed = time.perf_counter() - conn.info.pop("bench_t0", time.perf_counter())
    key = " ".join(statement.split())[:110]
    with _sql_lock:
        entry = _sql[key]
        entry[0] += 1
        entry[1] += len(params) if many else 1
        entry[2] += elapsed


@sa.event.listens_for(sa.engine.Engine, "connect")
def _explain(dbapi_conn: Any, _record: Any) -> None:
    slow_ms = os.environ.get("NETFLEET_BENCH_EXPLAIN_MS")
    if not slow_ms or not type(dbapi_conn).__module__.startswith("psycopg"):
        return
    with dbapi_conn.cursor() as cur:
        cur.execute("LOAD 'auto_explain'")
        cur.execute(f"SET auto_explain.log_min_duration = {int(slow_ms)}")
        cur.execute("SET auto_explain.log_analyze = on")
        cur.execute("SET auto_explain.log_buffers = on")
    dbapi_conn.commit()


def _profiled_transaction(self: Database, what: str, fn: Callable[..., Any], write: bool) -> Any:
    if not _on.is_set():
        return _transaction(self, what, fn, write)
    prof = getattr(_local, "prof", None)
    if prof is None:
        prof = _local.prof = cProfile.Profile()
        _store.append(prof)
    prof.enable()
    try:
        return _transaction(self, what, fn, write)
    finally:
        prof.disable()


def _start(*_: object) -> None:
    _on.set()
    _main.enable()


def _stop(*_: object) -> None:
    _main.disable()
    _on.clear()
    _main.dump_stats(f"{prefix}.main.prof")
    if _store:
        import pstats

        stats = pstats.Stats(_store[0])
        for prof in _store[1:]:
            stats.add(prof)
        stats.dump_stats(f"{prefix}.store.prof")
    with open(f"{prefix}.sql.txt", "w") as out:
        out.write("calls\trows\tseconds\tstatement\n")
        for key, (calls, rows, seconds) in sorted(_sql.items(), key=lambda kv: -kv[1][2]):
            out.write(f"{calls:.0f}\t{rows:.0f}\t{seconds:.3f}\t{key}\n")


if __name__ == "__main__":
    prefix = sys.argv[1]
    sys.argv = [sys.argv[0], *sys.argv[2:]]
    Database._transaction = _profiled_transaction  # type: ignore[method-assign]
    signal.signal(signal.SIGUSR1, _start)
    signal.signal(signal.SIGUSR2, _stop)
    main()

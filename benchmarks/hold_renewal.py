"""Hold renewal: rows written per heartbeat for a worker with many idle session holds.

One worker keeps N idle sessions (holds, default 1,000 devices). Each heartbeat then
renews its holds. Netfleet renews one ``hold_epochs`` row per worker, however many
holds it has. The baseline, measured in the same run on the same hold rows, is the
same heartbeat renewing by hold: lock and extend each hold row that is due (the
previous design: each row about twice a lease; here the worst case, every hold
due). Rows written are counted from the cursor's rowcount of every
INSERT/UPDATE/DELETE in the heartbeat transaction; time is the median heartbeat
transaction.

    .venv/bin/python benchmarks/hold_renewal.py            # SQLite and PostgreSQL
    .venv/bin/python benchmarks/hold_renewal.py --smoke    # 100 holds (CI)
"""

# ruff: noqa: E402
from __future__ import annotations

import sys
from pathlib import Path

sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from cryptography.fernet import Fernet

from netfleet.core.models import CommandResult, Credential, DeviceSpec
from netfleet.jobs.model import JobSpec
from netfleet.store import SqlStore, open_store
from netfleet.store.records import TaskOutcome
from netfleet.store.sql import claims as claims_sql
from netfleet.store.sql import holds as holds_sql

sys.path.insert(0, str(Path(__file__).resolve().parent))
from worker_e2e import drop_database, fresh_database

LEASE_S = 30.0
WORKER = "bench-w1"
KEEP = TaskOutcome("succeeded", [CommandResult("show version", "ok")], keep_session=True)


def _specs(n: int) -> list[DeviceSpec]:
    cred = (Credential("admin", password="pw", name="bench"),)
    return [
        DeviceSpec(
            name=f"d{i:05d}",
            host="127.0.0.1",
            port=20_000 + i,
            platform="cisco_ios",
            credentials=cred,
            max_sessions=2,
        )
        for i in range(n)
    ]


async def _hold_sessions(store: SqlStore, n: int) -> None:
    await store.devices.import_many(_specs(n))
    spec = JobSpec.model_validate(
        {"targets": {"devices": [f"d{i:05d}" for i in range(n)]}, "commands": ["show version"]}
    )
    await store.jobs.submit(spec)
    kept = 0
    while kept < n:
        batch = await store.claims.claim(WORKER, 200, lease_s=LEASE_S)
        if not batch:
            raise RuntimeError(f"only {kept} of {n} tasks claimed")
        await store.completions.complete_many(WORKER, [(t.task_id, t.attempt, KEEP) for t in batch])
        kept += len(batch)


def _counting(conn: sa.Connection, fn: Callable[[sa.Connection], Any]) -> tuple[int, float]:
    """Rows written by ``fn(conn)`` and its time."""
    written = [0]

    def after(_c: Any, cursor: Any, statement: str, *_: Any) -> None:
        verb = statement.lstrip().split(None, 1)[0].upper()
        if verb in ("INSERT", "UPDATE", "DELETE") and cursor.rowcount > 0:
            written[0] += cursor.rowcount

    sa.event.listen(conn, "after_cursor_execute", after)
    try:
        start = time.perf_counter()
        fn(conn)
        return written[0], time.perf_counter() - start
    finally:
        sa.event.remove(conn, "after_cursor_execute", after)


def _per_hold_heartbeat(conn: sa.Connection, now: float, postgres: bool) -> None:
    """The baseline: the same heartbeat, renewing by hold (lock the due hold rows in
    device order, extend each) instead of the epoch row."""
    holds_sql.drop_old_epochs(conn, postgres=postgres, worker_id=WORKER, epoch=0)
    due = "worker_id = :w AND expires_at >= :now AND expires_at < :half"
    params = {"until": now + LEASE_S, "w": WORKER, "now": now, "half": now + LEASE_S / 2}
    lock = " FOR UPDATE" if postgres else ""
    ids = conn.execute(
        sa.text(f"SELECT device_id FROM session_holds WHERE {due} ORDER BY device_id{lock}"),
        params,
    ).all()
    if ids:
        conn.execute(sa.text(f"UPDATE session_holds SET expires_at = :until WHERE {due}"), params)
    holds_sql.blocking_exclusive(conn, WORKER, now)


async def _measure(store: SqlStore, rounds: int) -> dict[str, tuple[int, float]]:
    out: dict[str, tuple[int, float]] = {}

    def epoch_beat(conn: sa.Connection) -> tuple[int, float]:
        now = store.db.clock(conn)
        return _counting(
            conn,
            lambda c: claims_sql.heartbeat(c, WORKER, [], LEASE_S, now, postgres=store.db.postgres),
        )

    def per_hold(conn: sa.Connection) -> tuple[int, float]:
        now = store.db.clock(conn)
        conn.execute(  # every hold due: the baseline's worst case (and its mean is half)
            sa.text("UPDATE session_holds SET expires_at = :t WHERE worker_id = :w"),
            {"t": now + 1, "w": WORKER},
        )
        return _counting(conn, lambda c: _per_hold_heartbeat(c, now, store.db.postgres))

    for name, fn in (("per-worker epoch", epoch_beat), ("per-hold (baseline)", per_hold)):
        results = [await store.db.run(fn) for _ in range(rounds)]
        out[name] = (max(w for w, _ in results), statistics.median(t for _, t in results))
    return out


async def run(backend: str, holds: int, rounds: int) -> dict[str, tuple[int, float]]:
    with tempfile.TemporaryDirectory(prefix="nf-holds-") as tmp:
        url, pg_name = fresh_database(Path(tmp), backend == "postgresql")
        try:
            store = await open_store(url, secret_key=Fernet.generate_key())
            try:
                await _hold_sessions(store, holds)
                return await _measure(store, rounds)
            finally:
                await store.close()
        finally:
            drop_database(pg_name)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--holds", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--smoke", action="store_true")
    args = parser.parse_args()
    holds, rounds = (100, 5) if args.smoke else (args.holds, args.rounds)
    print(f"{holds} idle holds of one worker, {rounds} heartbeats per method\n")
    print("| backend | renewal | rows written / heartbeat | median heartbeat | ratio |")
    print("|---|---|---:|---:|---:|")
    failed = False
    for backend in ("sqlite", "postgresql"):
        res = asyncio.run(run(backend, holds, rounds))
        (ew, et), (bw, bt) = res["per-worker epoch"], res["per-hold (baseline)"]
        failed |= ew > 1 or bw != holds
        print(f"| {backend} | per-hold (baseline) | {bw} | {bt * 1000:.2f} ms | 1.00x |")
        print(
            f"| {backend} | per-worker epoch | {ew} | {et * 1000:.2f} ms | "
            f"{bt / et:.2f}x, {bw / max(ew, 1):.0f}x fewer rows |"
        )
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Soak: steady load through worker processes for a while; RSS and open file
descriptors of each worker sampled as a series (they should stay flat), with the
throughput of each interval and the session accounting checked at the end.

The store's queue tables take several row versions per task (claim, lease renewals,
completion) and the session holds are written at every claim: without VACUUM their
heaps and indexes only grow, and every claim and heartbeat reads more pages. A
server with ``autovacuum = off`` (the CI configuration) therefore slows down over a
long run where production would not; the soak then vacuums the database itself every
``--vacuum-every`` seconds, in place of autovacuum (0: never, to see the difference).

    .venv/bin/python benchmarks/soak.py             # 30 minutes
    .venv/bin/python benchmarks/soak.py --smoke     # about 15 seconds of load (CI)
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
import tempfile
import time
from pathlib import Path

import psutil
import sqlalchemy as sa

from chaos import HEARTBEAT_S, WORKER_ENV
from harness.chaos_support import counted, device_stats, workers_beating
from netfleet.core.inventory import load_inventory
from netfleet.core.settings import Settings
from netfleet.jobs.model import JobSpec
from netfleet.store import open_store
from worker_e2e import KEY, SimProcess, drop_database, fresh_database, start_worker


def _admin_engine(url: str) -> sa.Engine:
    return sa.create_engine(
        url.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT"
    )


def autovacuum_on(url: str) -> bool:
    """The server's ``autovacuum`` setting (PostgreSQL)."""
    engine = _admin_engine(url)
    try:
        with engine.connect() as conn:
            return str(conn.execute(sa.text("SHOW autovacuum")).scalar()) == "on"
    finally:
        engine.dispose()


async def vacuum_every(url: str, every_s: float, stop: asyncio.Event) -> int:
    """``VACUUM ANALYZE`` the database every ``every_s`` until ``stop``; returns how often."""
    engine = _admin_engine(url)

    def vacuum() -> None:
        with engine.connect() as conn:
            conn.execute(sa.text("VACUUM (ANALYZE)"))

    done = 0
    try:
        while True:
            try:
                await asyncio.wait_for(stop.wait(), every_s)
                return done
            except TimeoutError:
                await asyncio.to_thread(vacuum)
                done += 1
    finally:
        engine.dispose()


async def main(args: argparse.Namespace) -> int:
    tmp = Path(tempfile.mkdtemp(prefix="netfleet-soak-"))
    sim = SimProcess(args.devices, tmp)
    db_name = None
    procs = []
    rows: list[tuple[float, int, list[float], list[int]]] = []
    vacuum_note = "SQLite"
    stop_vacuum = asyncio.Event()
    vacuums: asyncio.Task[int] | None = None
    try:
        await sim.ready()
        url, db_name = fresh_database(tmp, not args.sqlite)
        store = await open_store(url, settings=Settings(secret_key=KEY))
        try:
            if db_name is not None:
                if autovacuum_on(url):
                    vacuum_note = "autovacuum on"
                elif args.vacuum_every > 0:
                    vacuum_note = f"autovacuum off: the soak vacuums every {args.vacuum_every:g} s"
                    vacuums = asyncio.create_task(vacuum_every(url, args.vacuum_every, stop_vacuum))
                else:
                    vacuum_note = "autovacuum off, no VACUUM (--vacuum-every 0)"
            specs = load_inventory(sim.inventory).devices
            assert (await store.devices.import_many(specs)).ok
            names = [s.name for s in specs]
            ids = {f"soak-{i}" for i in range(args.workers)}
            procs = [start_worker(url, tmp, name, **WORKER_ENV) for name in sorted(ids)]
            await workers_beating(store, lambda: ids, fresh_s=10 * HEARTBEAT_S, timeout=300)
            ps = [psutil.Process(p.pid) for p in procs]
            spec = JobSpec.model_validate(
                {"targets": {"devices": names}, "commands": ["show clock"]}
            )
            t0 = time.monotonic()
            end = t0 + args.seconds
            done_before = 0
            jobs: list[int] = []
            finished_jobs = 0
            open_jobs: list[int] = []
            next_sample = t0
            while time.monotonic() < end:
                unfinished = 0
                for job_id in jobs[-4:]:
                    unfinished += not (await store.jobs.get(job_id, tasks=False)).finished
                if unfinished < 2:  # steady: about two jobs in flight
                    jobs.append((await store.jobs.submit(spec)).id)
                    open_jobs.append(jobs[-1])
                if time.monotonic() >= next_sample:
                    # A finished job stays finished: read only the others.
                    still = [
                        j for j in open_jobs if not (await store.jobs.get(j, tasks=False)).finished
                    ]
                    finished_jobs += len(open_jobs) - len(still)
                    open_jobs = still
                    done = finished_jobs * len(names)
                    rows.append(
                        (
                            time.monotonic() - t0,
                            done - done_before,
                            [p.memory_info().rss / 2**20 for p in ps],
                            [p.num_fds() for p in ps],
                        )
                    )
                    done_before = done
                    next_sample += args.sample
                await asyncio.sleep(0.1)
            stop_vacuum.set()
            for p in procs:
                p.send_signal(signal.SIGTERM)
            for p in procs:
                p.wait(timeout=60)
            store_count = await counted(store)
            at_device = await asyncio.to_thread(device_stats, sim)
            phantom = sum(
                max(0, store_count.get(n, 0) - at_device[n]["sessions_open"]) for n in names
            )
        finally:
            stop_vacuum.set()
            if vacuums is not None:
                vacuum_note += f" ({await vacuums} times)"
            await store.close()
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
        sim.stop()
        drop_database(db_name)
    print(f"\nVACUUM: {vacuum_note}")
    print("\n| t (s) | tasks done in interval | RSS per worker (MiB) | open fds per worker |")
    print("|---|---|---|---|")
    for t, n, rss, fds in rows:
        print(
            f"| {t:.0f} | {n} | {', '.join(f'{r:.1f}' for r in rss)} | {', '.join(map(str, fds))} |"
        )
    if len(rows) >= 2:
        first, last = rows[0], rows[-1]
        growth = [b / a if a else 0.0 for a, b in zip(first[2], last[2], strict=True)]
        print(f"\nRSS last/first sample per worker: {', '.join(f'{g:.2f}' for g in growth)}")
        print(f"fds first -> last: {first[3]} -> {last[3]}")
    print(f"phantom holds after stopping the workers: {phantom}")
    return 1 if phantom else 0


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--smoke", action="store_true", help="about 15 seconds of load (CI)")
    p.add_argument("--devices", type=int, default=200)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--seconds", type=float, default=1800.0)
    p.add_argument("--sample", type=float, default=60.0, help="seconds between samples")
    p.add_argument("--sqlite", action="store_true", help="use SQLite instead of PostgreSQL")
    p.add_argument(
        "--vacuum-every",
        type=float,
        default=60.0,
        help="seconds between the soak's VACUUMs when the server's autovacuum is off (0: never)",
    )
    args = p.parse_args()
    if args.smoke:
        args.devices, args.workers, args.seconds, args.sample = 10, 2, 15.0, 5.0
    return args


if __name__ == "__main__":
    sys.exit(asyncio.run(main(parse_args())))

"""Soak: steady load through worker processes for a while; RSS and open file
descriptors of each worker sampled as a series (they should stay flat), with the
throughput of each interval and the session accounting checked at the end.

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

from chaos import HEARTBEAT_S, WORKER_ENV
from harness.chaos_support import counted, device_stats, workers_beating
from netfleet.core.inventory import load_inventory
from netfleet.core.settings import Settings
from netfleet.jobs.model import JobSpec
from netfleet.store import open_store
from worker_e2e import KEY, SimProcess, drop_database, fresh_database, start_worker


async def main(args: argparse.Namespace) -> int:
    tmp = Path(tempfile.mkdtemp(prefix="netfleet-soak-"))
    sim = SimProcess(args.devices, tmp)
    db_name = None
    procs = []
    rows: list[tuple[float, int, list[float], list[int]]] = []
    try:
        await sim.ready()
        url, db_name = fresh_database(tmp, not args.sqlite)
        store = await open_store(url, settings=Settings(secret_key=KEY))
        try:
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
            next_sample = t0
            while time.monotonic() < end:
                unfinished = 0
                for job_id in jobs[-4:]:
                    unfinished += not (await store.jobs.get(job_id, tasks=False)).finished
                if unfinished < 2:  # steady: about two jobs in flight
                    jobs.append((await store.jobs.submit(spec)).id)
                if time.monotonic() >= next_sample:
                    finished = [(await store.jobs.get(j, tasks=False)).finished for j in jobs]
                    done = sum(finished) * len(names)
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
            await store.close()
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
        sim.stop()
        drop_database(db_name)
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
    args = p.parse_args()
    if args.smoke:
        args.devices, args.workers, args.seconds, args.sample = 10, 2, 15.0, 5.0
    return args


if __name__ == "__main__":
    sys.exit(asyncio.run(main(parse_args())))

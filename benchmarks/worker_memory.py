"""Worker memory over many tasks: does it grow with the work (a leak) or level off?

One worker runs in this process (``build_workers`` with the integration loops, as
``netfleet worker`` wires it) against a simulator process and a fresh PostgreSQL
database (SQLite if unreachable). A second store in this process submits rounds of
small jobs: ``show clock`` on every device, ``show version`` (long output: the
devices set to drop mid-output lose their session and reconnect), a command the
devices refuse (failed tasks), a config push to a few devices, a backup job and a
rebooted device every few rounds.

After the warm-up rounds and after each of two equal measured halves: ``gc.collect()``,
a ``tracemalloc`` snapshot, the live objects by type, RSS and glibc's heap counters
(``mallinfo2``: bytes in use and free inside the heap). Printed: Python allocation
growth per 1,000 tasks in each half, the biggest growth by traceback, object counts by
type, and RSS before and after ``malloc_trim(0)``. Python allocations that grow alike
in both halves are a leak; flat Python allocations with RSS growth that ``malloc_trim``
gives back (or that ``MALLOC_ARENA_MAX=2`` removes) are the allocator holding freed
memory. ``--no-trace`` runs without tracemalloc (its own bookkeeping and slowdown) for
the RSS series alone.

    .venv/bin/python benchmarks/worker_memory.py            # about 5 minutes at load 2
    .venv/bin/python benchmarks/worker_memory.py --smoke    # under 60 seconds (CI)
    MALLOC_ARENA_MAX=2 .venv/bin/python benchmarks/worker_memory.py --no-trace
"""

from __future__ import annotations

import argparse
import asyncio
import ctypes
import ctypes.util
import gc
import os
import sys
import tempfile
import threading
import time
import tracemalloc
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

from harness.chaos_support import post_json
from netfleet.core.inventory import load_inventory
from netfleet.core.logging import configure_logging
from netfleet.core.settings import LogSettings, Settings
from netfleet.jobs.model import JobSpec
from netfleet.store import SqlStore, open_store
from netfleet.store.sql import jobs as jobs_sql
from netfleet.worker.notify_loop import integration_loops
from netfleet.worker.process import build_workers
from worker_e2e import KEY, SimProcess, drop_database, fresh_database

QUICK_RETRY = {"backoff_base_s": 0.05, "backoff_max_s": 0.2}
"""Dropped sessions are retried (transient): soon, so that a round does not wait idle."""
SPEC_CACHE = str(Path(jobs_sql.__file__))
"""Allocations under ``SpecCache.get``: the parsed-spec caches (two: worker and driver)."""
DENIED = "show users"
"""Refused by every simulated device (``deny`` fault): a failed task."""


class _Mallinfo2(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in (
            "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks",
            "fsmblks", "uordblks", "fordblks", "keepcost",
        )
    ]  # fmt: skip


_LIBC = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")


def heap() -> dict[str, float]:
    """glibc's main counters in MiB: heap bytes in use, free inside it, mmapped blocks."""
    if not hasattr(_LIBC, "mallinfo2"):
        return {}
    _LIBC.mallinfo2.restype = _Mallinfo2
    info = _LIBC.mallinfo2()
    return {"in_use": info.uordblks / 2**20, "free": info.fordblks / 2**20,
            "mmapped": info.hblkhd / 2**20}  # fmt: skip


def malloc_trim() -> None:
    if hasattr(_LIBC, "malloc_trim"):
        _LIBC.malloc_trim(0)


def rss_mib() -> float:
    return float(psutil.Process().memory_info().rss) / 2**20


def rss_kinds() -> dict[str, float]:
    """Anonymous (heap, arenas, stacks) and file-backed (code of libraries) RSS, MiB."""
    out = {}
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(("RssAnon:", "RssFile:")):
                out[line[3:7].lower()] = int(line.split()[1]) / 1024
    return out


def pymalloc() -> dict[str, float]:
    """pymalloc's arenas (MiB mapped) and the bytes in its allocated blocks."""
    with tempfile.TemporaryFile() as f:
        saved = os.dup(2)
        try:
            os.dup2(f.fileno(), 2)
            sys._debugmallocstats()
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        f.seek(0)
        text = f.read().decode(errors="replace")
    out = {}
    for line in text.splitlines():
        value = line.rsplit("=", 1)[-1].strip().replace(",", "")
        if line.startswith("# arenas allocated current"):
            out["arenas"] = int(value) * 1.0  # 1 MiB arenas (3.10+)
        elif line.startswith("# bytes in allocated blocks"):
            out["blocks"] = int(value) / 2**20
    return out


@dataclass
class Mark:
    """One measurement point: tasks done, seconds, memory counters (MiB), live objects."""

    tasks: int
    seconds: float
    mem: dict[str, float]
    objects: Counter[str]
    snapshot: tracemalloc.Snapshot | None


def mark(tasks: int, t0: float, store: SqlStore) -> Mark:
    gc.collect()
    tracing = tracemalloc.is_tracing()
    snap = tracemalloc.take_snapshot() if tracing else None
    mem = {
        "rss": rss_mib(),
        **rss_kinds(),
        "traced": tracemalloc.get_traced_memory()[0] / 2**20 if tracing else 0.0,
        "trace_own": tracemalloc.get_tracemalloc_memory() / 2**20 if tracing else 0.0,
        **pymalloc(),
        **heap(),
        "threads": float(threading.active_count()),
        "specs": float(len(store.db.specs)),  # the worker's parsed-spec cache
    }
    objects = Counter(type(o).__qualname__ for o in gc.get_objects())
    return Mark(tasks, time.monotonic() - t0, mem, objects, snap)


def job(names: list[str], **fields: Any) -> JobSpec:
    return JobSpec.model_validate({"targets": {"devices": names}, **fields})


async def wait_jobs(store: SqlStore, ids: list[int], timeout: float) -> None:
    end = time.monotonic() + timeout
    for job_id in ids:
        while not (await store.jobs.get(job_id, tasks=False)).finished:
            if time.monotonic() > end:
                raise SystemExit(f"job {job_id} not finished in {timeout:.0f} s")
            await asyncio.sleep(0.05)


async def one_round(
    store: SqlStore, sim: SimProcess, names: list[str], index: int, drop: list[str]
) -> int:
    """Submit one round's jobs and wait for them; the number of tasks."""
    few = names[index % (len(names) - 3) :][:3]
    jobs = [
        job(names, commands=["show clock"]),
        job(drop + names[:5], commands=["show version"], options=QUICK_RETRY),
        job(names[:4], commands=[DENIED]),
        job(few, config=[f"interface Loopback{index % 50}", f" description round {index}"]),
    ]
    if index % 5 == 0:
        jobs.append(job(few, backup=True))
        target = names[(index // 5) % len(names)]
        await asyncio.to_thread(sim.post, f"/devices/{target}/reboot")
    ids = [(await store.jobs.submit(spec)).id for spec in jobs]
    await wait_jobs(store, ids, timeout=300)
    return sum(len(spec.targets.devices or []) for spec in jobs)


def worker_settings(tmp: Path, concurrency: int) -> Settings:
    return Settings.model_validate(
        {
            "secret_key": KEY,
            "worker": {
                "concurrency": concurrency,
                "heartbeat_seconds": 0.5,
                "lease_seconds": 60,
                "poll_seconds": 0.2,
                "drain_timeout_seconds": 2,
                "timeout_seconds": 3,
                "scheduler": False,
            },
            "pool": {"logins_per_second_per_device": 50.0, "auth_failure_backoff_seconds": 1},
            "connect": {"known_hosts": str(tmp / "known_hosts")},
        }
    )


COLUMNS = {
    "rss": "RSS", "anon": "anon", "file": "file", "traced": "traced",
    "trace_own": "tracemalloc", "arenas": "pymalloc arenas", "blocks": "pymalloc used",
    "in_use": "malloc used", "free": "malloc free", "mmapped": "mmapped",
    "threads": "threads", "specs": "cached specs",
}  # fmt: skip


COUNTS = ("threads", "specs")


def per_k(a: Mark, b: Mark, key: str) -> float:
    """KiB of ``key`` grown per 1,000 tasks from ``a`` to ``b``."""
    return (b.mem.get(key, 0.0) - a.mem.get(key, 0.0)) * 1024 * 1000 / max(1, b.tasks - a.tasks)


def report(marks: list[Mark], trimmed: float, top: int, backend: str) -> None:
    print(f"\nworker in this process, {backend}; tracemalloc: {marks[0].snapshot is not None}")
    print(f"MALLOC_ARENA_MAX={os.environ.get('MALLOC_ARENA_MAX', 'unset')}")
    print("\nMiB (threads, cached specs: counts); traced: live Python allocations")
    print("(tracemalloc); anon/file: anonymous and file-backed RSS; malloc: glibc's heap")
    print("(pymalloc's arenas are mmapped apart)\n")
    keys = [k for k in COLUMNS if k in marks[0].mem]
    print("| point | tasks | s | " + " | ".join(COLUMNS[k] for k in keys) + " | objects |")
    print("|---|---|---|" + "---|" * (len(keys) + 1))
    for name, m in zip(("warm", "half", "end"), marks, strict=True):
        values = " | ".join(f"{m.mem[k]:.{0 if k in COUNTS else 1}f}" for k in keys)
        print(f"| {name} | {m.tasks} | {m.seconds:.0f} | {values} | {sum(m.objects.values())} |")
    print(f"\nRSS after malloc_trim(0) at the end point: {trimmed:.1f} MiB "
          f"({trimmed - marks[-1].mem['rss']:+.1f})")  # fmt: skip
    grown = [k for k in keys if k not in COUNTS]
    print("\nKiB per 1,000 tasks:\n")
    print("| half | " + " | ".join(COLUMNS[k] for k in grown) + " |")
    print("|---|" + "---|" * len(grown))
    for label, (a, b) in (("1", marks[0:2]), ("2", marks[1:3])):
        print(f"| {label} | " + " | ".join(f"{per_k(a, b, k):+.0f}" for k in grown) + " |")
    first, last = marks[0], marks[-1]
    more = Counter({k: last.objects[k] - first.objects[k] for k in last.objects})
    print("\nobjects by type, warm -> end (largest increases):")
    for name, n in more.most_common(top):
        if n > 0:
            print(f"  {name}: +{n} ({first.objects[name]} -> {last.objects[name]})")
    if first.snapshot is None or last.snapshot is None:
        return
    filters = [tracemalloc.Filter(False, tracemalloc.__file__)]
    old = first.snapshot.filter_traces(filters)
    new = last.snapshot.filter_traces(filters)
    caches = [tracemalloc.Filter(False, SPEC_CACHE, all_frames=True)]
    for label, (a, b) in (("1", marks[0:2]), ("2", marks[1:3])):
        assert a.snapshot is not None
        assert b.snapshot is not None
        diff = b.snapshot.filter_traces(filters + caches).compare_to(
            a.snapshot.filter_traces(filters + caches), "filename"
        )
        kib = sum(d.size_diff for d in diff) / 1024 * 1000 / max(1, b.tasks - a.tasks)
        print(f"half {label}: Python growth outside the spec caches: {kib:+.1f} KiB / 1,000 tasks")
    print(f"\ntop {top} allocation growth by traceback, warm -> end:")
    for stat in new.compare_to(old, "traceback")[:top]:
        if stat.size_diff <= 0:
            continue
        print(f"\n  {stat.size_diff / 1024:+.1f} KiB, {stat.count_diff:+d} blocks")
        for line in stat.traceback.format(limit=8, most_recent_first=True):
            print(f"    {line}")


async def main(args: argparse.Namespace) -> int:
    configure_logging(LogSettings(level="WARNING", format="json"))
    tmp = Path(tempfile.mkdtemp(prefix="netfleet-mem-"))
    sim = SimProcess(args.devices, tmp)
    db_name = None
    marks: list[Mark] = []
    trimmed = 0.0
    try:
        await sim.ready()
        url, db_name = fresh_database(tmp, not args.sqlite)
        driver = await open_store(url, settings=Settings(secret_key=KEY))
        settings = worker_settings(tmp, args.concurrency)
        settings.database.url = url
        store = await open_store(url, settings=settings)
        try:
            specs = load_inventory(sim.inventory).devices
            assert (await driver.devices.import_many(specs)).ok
            names = [s.name for s in specs]
            drop = names[-3:]
            post_json(sim, "/faults", {"devices": "*", "deny": DENIED})
            for name in drop:
                post_json(sim, f"/devices/{name}/faults", {"drop_mid_output": 200})
            extra = integration_loops(store, settings, owner="notify-mem")
            group = build_workers(store, settings, worker_id="mem-0", extra_loops=extra)
            (worker,) = group.workers
            running = asyncio.create_task(worker.run())
            try:
                if args.trace:  # from the start: what warm-up allocates and frees counts
                    tracemalloc.start(args.frames)
                for i in range(args.warmup):
                    await one_round(driver, sim, names, i, drop)
                t0 = time.monotonic()
                marks.append(mark(0, t0, store))
                done = 0
                for half in (1, 2):
                    for i in range(args.rounds):
                        index = args.warmup + (half - 1) * args.rounds + i
                        done += await one_round(driver, sim, names, index, drop)
                    marks.append(mark(done, t0, store))
                malloc_trim()  # what glibc holds free gives back, while the worker still runs
                trimmed = rss_mib()
                if worker.stats.failed == 0:
                    print("no task failed: the failure paths did not run", file=sys.stderr)
                print(f"worker: {worker.stats.succeeded} succeeded, {worker.stats.failed} "
                      f"failed; pool {group.pool.totals()}")  # fmt: skip
            finally:
                worker.stop()
                await running
                await group.close()
        finally:
            await store.close()
            await driver.close()
    finally:
        sim.stop()
        drop_database(db_name)
    tracemalloc.stop()
    report(marks, trimmed, args.top, "PostgreSQL" if db_name else "SQLite")
    print(f"\nload average at the end: {', '.join(f'{v:.2f}' for v in os.getloadavg())}")
    return 0


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--smoke", action="store_true", help="a few rounds (under 60 s)")
    p.add_argument("--devices", type=int, default=40)
    p.add_argument("--concurrency", type=int, default=20)
    p.add_argument("--warmup", type=int, default=8, help="rounds before the first snapshot")
    p.add_argument("--rounds", type=int, default=20, help="rounds in each measured half")
    p.add_argument("--frames", type=int, default=12, help="tracemalloc traceback depth")
    p.add_argument("--top", type=int, default=12)
    p.add_argument("--no-trace", dest="trace", action="store_false", help="RSS only")
    p.add_argument("--sqlite", action="store_true", help="use SQLite instead of PostgreSQL")
    args = p.parse_args()
    if args.smoke:
        args.devices, args.warmup, args.rounds, args.top, args.frames = 8, 2, 2, 5, 4
    return args


if __name__ == "__main__":
    sys.exit(asyncio.run(main(parse_args())))

"""Idle sessions: the memory of one process holding N idle pooled sessions, and the
store traffic that renews N session holds.

- memory: one process (this one) opens N sessions through a session pool to
  simulator processes (Cisco IOS, one session per device, at most 2,500 devices per
  simulator process) and returns them idle; the client's RSS (``VmRSS``) before and
  after, divided by N. The baseline RSS is taken after a warm-up of 100 sessions
  (imports, caches and the event loop's first allocations stay out). With
  ``--trace N`` it also opens N more under ``tracemalloc`` and lists the Python
  allocations per module (what dominates a session).
- renewal: a store (SQLite file; PostgreSQL with ``--postgres``) where one worker
  holds N sessions (N tasks completed with ``keep_session``), then heartbeats every
  ``lease/6`` s for two leases: statements and rows written per heartbeat.

    .venv/bin/python benchmarks/idle_sessions.py            # 10,000 sessions
    .venv/bin/python benchmarks/idle_sessions.py --smoke    # 200 sessions
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import gc
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
import uuid
from collections import defaultdict
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from cryptography.fernet import Fernet

from netfleet.core.inventory import load_inventory
from netfleet.core.models import DeviceSpec
from netfleet.core.settings import PoolSettings, Settings, WorkerSettings
from netfleet.device import Device
from netfleet.jobs.model import JobSpec
from netfleet.pool import SessionPool, device_pool
from netfleet.store import open_store
from netfleet.store.records import TaskOutcome

KEY = Fernet.generate_key().decode()
PER_SIM = 2500
WARMUP = 100
PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS in /proc/self/status")


def raise_nofile(needed: int) -> tuple[int, int]:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else max(soft, needed)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)


# --- simulators -------------------------------------------------------------------------


def start_sims(total: int, tmp: Path) -> tuple[list[subprocess.Popen[bytes]], list[Path]]:
    procs, inventories = [], []
    for i in range(0, total, PER_SIM):
        inv = tmp / f"fleet-{i}.yaml"
        procs.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "netfleet_sim",
                    "--devices",
                    str(min(PER_SIM, total - i)),
                    "--platforms",
                    "cisco_ios",
                    "--inventory",
                    str(inv),
                    "--exec-timeout-s",  # opening 10,000 takes minutes: keep the first ones
                    "86400",
                ],
                stdout=subprocess.DEVNULL,
                stderr=(tmp / f"sim-{i}.log").open("wb"),
            )
        )
        inventories.append(inv)
    return procs, inventories


async def load_specs(procs: list[subprocess.Popen[bytes]], inventories: list[Path]) -> list[Any]:
    specs: list[DeviceSpec] = []
    for n, (proc, inv) in enumerate(zip(procs, inventories, strict=True)):
        for _ in range(1200):
            if proc.poll() is not None:
                raise SystemExit(f"a simulator exited; see {inv.parent}")
            if inv.exists() and inv.stat().st_size:
                with contextlib.suppress(Exception):
                    # every simulator names its devices alike: make the names unique
                    specs += [
                        dataclasses.replace(d, name=f"sim{n}-{d.name}")
                        for d in load_inventory(inv).devices
                    ]
                    break
            await asyncio.sleep(0.1)
        else:
            raise SystemExit("a simulator did not start")
    return specs


# --- memory -----------------------------------------------------------------------------


async def open_idle(pool: SessionPool[Device], specs: list[DeviceSpec], conc: int) -> int:
    gate = asyncio.Semaphore(conc)
    failures = 0

    async def one(spec: DeviceSpec) -> None:
        nonlocal failures
        async with gate:
            try:
                async with pool.lease(spec) as lease:
                    await lease.session.send_command("show clock")
            except Exception:
                failures += 1

    await asyncio.gather(*(one(s) for s in specs))
    return failures


def settle() -> None:
    gc.collect()
    time.sleep(0.2)


async def memory_phase(specs: list[DeviceSpec], args: argparse.Namespace) -> dict[str, Any]:
    settings = Settings(secret_key=KEY)
    settings.connect.known_hosts = Path(tempfile.mkdtemp()) / "known_hosts"
    worker = WorkerSettings(
        max_connections_per_worker=len(specs) + 100, max_idle_time_seconds=3600.0
    )
    pool = device_pool(
        PoolSettings(max_concurrent_logins=args.concurrency), worker, settings.connect
    )
    try:
        warm, rest = specs[:WARMUP], specs[WARMUP : WARMUP + args.sessions]
        traced = specs[WARMUP + args.sessions : WARMUP + args.sessions + args.trace]
        await open_idle(pool, warm, args.concurrency)
        settle()
        before = rss_kib()
        t0 = time.perf_counter()
        failures = await open_idle(pool, rest, args.concurrency)
        elapsed = time.perf_counter() - t0
        settle()
        after = rss_kib()
        idle = pool.totals()["idle"] - WARMUP
        by_module: list[tuple[str, int]] = []
        if traced:
            tracemalloc.start(1)
            base = tracemalloc.take_snapshot()
            await open_idle(pool, traced, args.concurrency)
            gc.collect()
            diff = tracemalloc.take_snapshot().compare_to(base, args.trace_by)
            tracemalloc.stop()
            sizes: dict[str, int] = defaultdict(int)
            for stat in diff:
                frame = stat.traceback[0]
                where = _module(frame.filename)
                if args.trace_by == "lineno":
                    where = f"{where}:{frame.lineno}"
                sizes[where] += stat.size_diff
            by_module = sorted(sizes.items(), key=lambda kv: -kv[1])[:8]
        return {
            "sessions": idle,
            "failures": failures,
            "open_s": elapsed,
            "rss_before": before,
            "rss_after": after,
            "traced": len(traced),
            "by_module": by_module,
        }
    finally:
        await pool.close(timeout=30.0)


def _module(filename: str) -> str:
    parts = Path(filename).parts
    for anchor in ("netfleet", "asyncssh", "cryptography", "asyncio"):
        if anchor in parts:
            i = parts.index(anchor)
            return "/".join(parts[i : i + 2]).removesuffix(".py")
    return Path(filename).name


# --- renewal ----------------------------------------------------------------------------


class Writes:
    """Statements and rows written, counted on every engine of this process."""

    def __init__(self) -> None:
        self.statements = 0
        self.rows = 0
        self.on = False
        sa.event.listen(sa.engine.Engine, "after_cursor_execute", self._after)

    def _after(self, conn: Any, cursor: Any, statement: str, *rest: Any) -> None:
        if self.on and statement.lstrip()[:6].upper() in ("UPDATE", "INSERT", "DELETE"):
            self.statements += 1
            self.rows += max(0, cursor.rowcount)


async def renewal_phase(specs: list[DeviceSpec], args: argparse.Namespace) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix="netfleet-idle-"))
    db_name = None
    url = f"sqlite:///{tmp / 'holds.db'}"
    if args.postgres:
        db_name = f"nf_idle_{uuid.uuid4().hex[:8]}"
        admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{db_name}"'))
        admin.dispose()
        url = f"postgresql://postgres@127.0.0.1:5432/{db_name}"
    store = await open_store(url, settings=Settings(secret_key=KEY))
    writes = Writes()
    try:
        n = args.sessions
        wanted = specs[:n]
        assert (await store.devices.import_many(wanted)).ok
        job = JobSpec.model_validate(
            {"targets": {"devices": [s.name for s in wanted]}, "commands": ["show clock"]}
        )
        await store.jobs.submit(job)
        keep = TaskOutcome("succeeded", [], keep_session=True)
        held = 0
        while held < n:
            got = await store.claims.claim("idle-worker", 1000, lease_s=args.lease)
            if not got:
                break
            await store.completions.complete_many(
                "idle-worker", [(t.task_id, t.attempt, keep) for t in got]
            )
            held += len(got)
        beat_s = args.lease / 6
        beats = 12  # two leases
        per_beat: list[tuple[int, int]] = []
        times: list[float] = []
        for _ in range(beats):
            await asyncio.sleep(beat_s)
            writes.on, writes.statements, writes.rows = True, 0, 0
            t0 = time.perf_counter()
            await store.claims.heartbeat("idle-worker", [], lease_s=args.lease)
            times.append(time.perf_counter() - t0)
            writes.on = False
            per_beat.append((writes.statements, writes.rows))
        live = await store.db.run(
            lambda c: c.execute(sa.text("SELECT sum(held) FROM session_holds")).scalar(),
            write=False,
        )
        return {
            "backend": "PostgreSQL" if args.postgres else "SQLite",
            "holds": int(live or 0),
            "beat_s": beat_s,
            "per_beat": per_beat,
            "beat_ms": [t * 1000 for t in times],
        }
    finally:
        await store.close()
        if db_name:
            admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)'))
            admin.dispose()


# --- main -------------------------------------------------------------------------------


async def main(args: argparse.Namespace) -> None:
    total = WARMUP + args.sessions + args.trace
    soft, hard = raise_nofile(total * 3)
    if total + 200 > soft:
        raise SystemExit(f"open files limit {soft} (hard {hard}) is too low for {total} sessions")
    tmp = Path(tempfile.mkdtemp(prefix="netfleet-idle-"))
    procs, inventories = start_sims(total, tmp)
    try:
        specs = await load_specs(procs, inventories)
        memory = None if args.skip_memory else await memory_phase(specs, args)
        renewal = await renewal_phase(specs[WARMUP:], args) if not args.skip_renewal else None
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=30)
            if proc.poll() is None:
                proc.kill()

    if memory is not None:
        print_memory(memory, len(procs), soft)
    if renewal is not None:
        stmts = [s for s, _ in renewal["per_beat"]]
        rows = [r for _, r in renewal["per_beat"]]
        print(
            f"\nRenewal ({renewal['backend']}): {renewal['holds']:,} session holds of one worker, "
            f"a heartbeat every {renewal['beat_s']:.2f} s for two leases ({len(rows)} beats)\n"
        )
        print("| per heartbeat | min | mean | max |")
        print("|---|---|---|---|")
        for label, values in (("statements written", stmts), ("rows written", rows)):
            print(f"| {label} | {min(values)} | {sum(values) / len(values):.1f} | {max(values)} |")
        ms = renewal["beat_ms"]
        mean = sum(ms) / len(ms)
        print(f"| heartbeat transaction, ms | {min(ms):.1f} | {mean:.1f} | {max(ms):.1f} |")


def print_memory(memory: dict[str, Any], sims: int, soft: int) -> None:
    kib = (memory["rss_after"] - memory["rss_before"]) / max(1, memory["sessions"])
    print(
        f"\n{memory['sessions']:,} idle sessions in one process, {sims} simulator "
        f"process(es), open files limit {soft:,}\n"
    )
    print("| memory | value |")
    print("|---|---|")
    print(f"| RSS after {WARMUP} warm-up sessions | {memory['rss_before'] / 1024:.1f} MiB |")
    print(
        f"| RSS holding {memory['sessions']:,} more idle sessions | "
        f"{memory['rss_after'] / 1024:.1f} MiB |"
    )
    print(f"| per idle session | {kib:.1f} KiB (target ≤ 48 KiB) |")
    print(f"| opening them | {memory['open_s']:.1f} s, {memory['failures']} failed |")
    if memory["by_module"]:
        print(
            f"\nPython allocations of {memory['traced']} more sessions (tracemalloc), per module:\n"
        )
        print("| module | KiB per session |")
        print("|---|---|")
        for module, size in memory["by_module"]:
            print(f"| {module} | {size / 1024 / memory['traced']:.1f} |")


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--smoke", action="store_true", help="200 sessions (well under a minute)")
    p.add_argument("--sessions", type=int, default=10_000)
    p.add_argument("--concurrency", type=int, default=64, help="logins at once")
    p.add_argument("--trace", type=int, default=200, help="sessions opened under tracemalloc")
    p.add_argument("--trace-by", choices=("filename", "lineno"), default="filename")
    p.add_argument("--lease", type=float, default=6.0, help="lease seconds for the renewal phase")
    p.add_argument("--postgres", action="store_true", help="renewal on PostgreSQL")
    p.add_argument("--skip-renewal", action="store_true")
    p.add_argument("--skip-memory", action="store_true")
    args = p.parse_args()
    if args.smoke:
        args.sessions, args.trace, args.lease = 200, 20, 1.5
    return args


if __name__ == "__main__":
    asyncio.run(main(parse_args()))

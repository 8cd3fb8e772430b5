"""End to end: tasks through worker processes on the simulator, vs direct execution.

One run measures, against one simulator process (Cisco IOS devices on loopback):

- baseline: the same tasks run directly in one process with a session pool and
  ``run_on_device`` (no queue, no database), at the same total concurrency;
- queue: the tasks submitted as jobs to a fresh PostgreSQL database (SQLite when
  PostgreSQL is not reachable) and run by worker processes (``netfleet worker``);
  a warm-up job first opens one session per device, then the measured jobs run;
  session reuse comes from the workers' pool statistics and the simulator's logins;
- memory: one worker holding many idle sessions (RSS of the worker process).

    .venv/bin/python benchmarks/worker_e2e.py           # 10,000 tasks, 1,000 devices
    .venv/bin/python benchmarks/worker_e2e.py --smoke   # a few seconds (CI)

Workers start before the clock: the warm-up job runs on them first, so imports, start-up
and first logins stay out of the measured rate; the warm-up itself is timed in both runs
as the first contact (a login per device). The workers use the product's heartbeat (5 s)
unless ``--heartbeat`` says otherwise. The CPU time each component spent
during the measured jobs (workers, simulator, PostgreSQL backends, this process) is
reported per 1,000 tasks: on a 2-core machine the sum is what limits the rate.

``NETFLEET_BENCH_PROFILE=DIR`` runs the workers under cProfile for the measured jobs
only (``benchmarks/harness/profiled.py``) and writes ``DIR/<worker>.main.prof`` (event
loop) and ``DIR/<worker>.store.prof`` (store threads); read them with ``python -m pstats``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import psutil
import sqlalchemy as sa
from cryptography.fernet import Fernet

from netfleet.core.inventory import load_inventory
from netfleet.core.models import DeviceSpec
from netfleet.core.settings import Settings, WorkerSettings
from netfleet.jobs.execute import run_on_device
from netfleet.jobs.model import JobSpec
from netfleet.pool import device_pool
from netfleet.store import SqlStore, open_store

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
COMMANDS = ["show version"]
KEY = Fernet.generate_key().decode()
HEARTBEAT_S = 0.5
"""The memory phase's heartbeat: it reads the idle sessions the heartbeats publish."""
CPU_PARTS = ("workers", "simulator", "postgres", "client")
PROFILE_DIR = os.environ.get("NETFLEET_BENCH_PROFILE")
PROFILED = Path(__file__).resolve().parent / "harness" / "profiled.py"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --- the simulator process ------------------------------------------------------------


class SimProcess:
    def __init__(self, devices: int, tmp: Path) -> None:
        self.inventory = tmp / "fleet.yaml"
        self.control = free_port()
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "netfleet_sim",
                "--devices",
                str(devices),
                "--platforms",
                "cisco_ios",
                "--inventory",
                str(self.inventory),
                "--control-port",
                str(self.control),
                "--max-sessions",
                "8",
            ],
            stdout=subprocess.DEVNULL,
            stderr=(tmp / "sim.log").open("wb"),
        )

    def get(self, path: str) -> Any:
        url = f"http://127.0.0.1:{self.control}{path}"
        with urllib.request.urlopen(url, timeout=30) as response:
            return json.load(response)

    def post(self, path: str) -> None:
        req = urllib.request.Request(f"http://127.0.0.1:{self.control}{path}", method="POST")
        with urllib.request.urlopen(req, timeout=30):
            pass

    async def ready(self) -> None:
        for _ in range(600):
            if self.proc.poll() is not None:
                raise SystemExit("the simulator exited; see sim.log")
            with contextlib.suppress(OSError):
                if self.inventory.exists() and self.get("/health").get("ok"):
                    return
            await asyncio.sleep(0.1)
        raise SystemExit("the simulator did not start")

    async def totals(self) -> dict[str, int]:
        data = await asyncio.to_thread(self.get, "/devices")
        devices = data["devices"] if isinstance(data, dict) else data
        out = {"logins": 0, "sessions_open": 0}
        for d in devices:
            stats = d.get("stats", d)
            out["logins"] += int(stats.get("logins", 0))
            out["sessions_open"] += int(stats.get("sessions_open", 0))
        return out

    def stop(self) -> None:
        self.proc.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=15)
        if self.proc.poll() is None:
            self.proc.kill()


# --- databases --------------------------------------------------------------------------


def fresh_database(tmp: Path, use_pg: bool) -> tuple[str, str | None]:
    """(url, PostgreSQL database name to drop) — SQLite if PostgreSQL is not reachable."""
    if use_pg:
        name = f"nf_bench_{uuid.uuid4().hex[:8]}"
        try:
            engine = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
            with engine.connect() as conn:
                conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
            engine.dispose()
            return f"postgresql://postgres@127.0.0.1:5432/{name}", name
        except sa.exc.OperationalError:
            print("PostgreSQL not reachable: using SQLite", file=sys.stderr)
    return f"sqlite:///{tmp / 'bench.db'}", None


def drop_database(name: str | None) -> None:
    if name is None:
        return
    engine = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


# --- workers ----------------------------------------------------------------------------


def start_worker(url: str, tmp: Path, name: str, **env: str) -> subprocess.Popen[bytes]:
    full = {
        **os.environ,
        "NETFLEET_SECRET_KEY": KEY,
        "NETFLEET_CONFIG": str(tmp / "absent.toml"),
        "NETFLEET_CONNECT__KNOWN_HOSTS": str(tmp / "known_hosts"),
        "NETFLEET_LOG__FORMAT": "json",
        "NETFLEET_LOG__LEVEL": "WARNING",
        "NETFLEET_WORKER__HEARTBEAT_SECONDS": str(HEARTBEAT_S),
        **env,
    }
    if PROFILE_DIR:
        Path(PROFILE_DIR).mkdir(parents=True, exist_ok=True)
        launcher = [str(PROFILED), str(Path(PROFILE_DIR) / name)]
    else:
        launcher = ["-c", "from netfleet.cli.app import main; main()"]
    return subprocess.Popen(
        [
            sys.executable,
            *launcher,
            "worker",
            "--db",
            url,
            "--id",
            name,
            "--no-scheduler",
        ],
        stdout=subprocess.DEVNULL,
        stderr=(tmp / f"{name}.log").open("wb"),
        env=full,
    )


async def stop_worker(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGTERM)
    for _ in range(600):
        if proc.poll() is not None:
            return
        await asyncio.sleep(0.05)
    proc.kill()


def profile_signal(procs: list[subprocess.Popen[bytes]], sig: signal.Signals) -> None:
    """Start (SIGUSR1) or stop and write (SIGUSR2) the workers' profiles, if profiling."""
    if PROFILE_DIR:
        for proc in procs:
            proc.send_signal(sig)


def cpu_seconds(procs: dict[str, list[int]]) -> dict[str, float]:
    """User + system CPU seconds so far per component (``postgres``: every backend)."""
    out: dict[str, float] = {}
    for name, pids in procs.items():
        total = 0.0
        for pid in pids:
            with contextlib.suppress(psutil.Error):
                t = psutil.Process(pid).cpu_times()
                total += t.user + t.system
        out[name] = total
    pg = 0.0
    for proc in psutil.process_iter(["name", "ppid"]):
        if proc.info["name"] != "postgres":
            continue
        with contextlib.suppress(psutil.Error):
            t = proc.cpu_times()
            pg += t.user + t.system
            if psutil.Process(proc.info["ppid"]).name() != "postgres":  # the postmaster:
                pg += t.children_user + t.children_system  # backends that have exited
    out["postgres"] = pg
    return out


async def wait_jobs(store: SqlStore, job_ids: list[int], timeout: float) -> None:
    end = time.monotonic() + timeout
    pending = list(job_ids)
    while pending:
        if time.monotonic() > end:
            raise SystemExit(f"jobs not finished in {timeout:.0f} s: {pending[:5]}")
        job = await store.jobs.get(pending[0], tasks=False)
        if job.finished:
            pending.pop(0)
        else:
            await asyncio.sleep(0.05)


async def pool_totals(store: SqlStore, ids: list[str]) -> dict[str, int]:
    out = {"checkouts": 0, "logins": 0, "reuses": 0}
    for w in await store.workers.list():
        if w.id in ids:
            pool = w.stats.get("pool", {})
            for key in out:
                out[key] += int(pool.get(key, 0))
    return out


async def workers_up(store: SqlStore, ids: list[str], timeout: float) -> None:
    """Wait until every worker in ``ids`` has registered as running."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        running = {w.id for w in await store.workers.list() if w.state == "running"}
        if running >= set(ids):
            return
        await asyncio.sleep(0.05)
    raise SystemExit(f"workers {ids} did not start within {timeout:.0f} s")


async def published_checkouts(
    store: SqlStore, ids: list[str], at_least: int, timeout: float
) -> dict[str, int]:
    """The workers' pool counters once a heartbeat has published ``at_least`` checkouts."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        totals = await pool_totals(store, ids)
        if totals["checkouts"] >= at_least:
            return totals
        await asyncio.sleep(0.1)
    raise SystemExit(f"no heartbeat published {at_least} checkouts within {timeout:.0f} s")


# --- phases -----------------------------------------------------------------------------


async def baseline(
    specs: list[DeviceSpec], rounds: int, concurrency: int, sim: SimProcess
) -> dict[str, float]:
    """Direct execution: one process, one pool, no queue."""
    settings = Settings(secret_key=KEY)
    settings.connect.known_hosts = Path(tempfile.mkdtemp()) / "known_hosts"
    worker = WorkerSettings(max_connections_per_worker=len(specs) + 100)
    pool = device_pool(settings.pool, worker, settings.connect)
    gate = asyncio.Semaphore(concurrency)
    failures = 0

    async def one(spec: DeviceSpec) -> None:
        nonlocal failures
        async with gate:
            run = await run_on_device(pool, spec, commands=COMMANDS)
            failures += not run.ok

    # warm-up round (first contact: a login per device), timed apart, like the queue phase
    t_warm = time.perf_counter()
    await asyncio.gather(*(one(s) for s in specs))
    warm_s = time.perf_counter() - t_warm
    warm = pool.stats().total
    pids = {"client": [os.getpid()], "simulator": [sim.proc.pid]}
    cpu_before = cpu_seconds(pids)
    t0 = time.perf_counter()
    for _ in range(rounds):
        await asyncio.gather(*(one(s) for s in specs))
    elapsed = time.perf_counter() - t0
    cpu_after = cpu_seconds(pids)
    stats = pool.stats().total
    await pool.close()
    return {
        "elapsed": elapsed,
        "tasks": rounds * len(specs),
        "failures": failures,
        "logins": stats.logins - warm.logins,
        "checkouts": stats.checkouts - warm.checkouts,
        "warm_s": warm_s,
        **{f"cpu_{k}": cpu_after[k] - cpu_before[k] for k in cpu_after},
    }


async def queue_phase(
    store: SqlStore,
    sim: SimProcess,
    url: str,
    tmp: Path,
    names: list[str],
    rounds: int,
    workers: int,
    conc: int,
    heartbeat: float,
) -> dict[str, float]:
    ids = [f"bench-{i}" for i in range(workers)]
    env = {
        "NETFLEET_WORKER__HEARTBEAT_SECONDS": str(heartbeat),
        "NETFLEET_WORKER__CONCURRENCY": str(conc),
        "NETFLEET_WORKER__MAX_CONNECTIONS_PER_WORKER": str(len(names) + 100),
    }
    procs = [start_worker(url, tmp, wid, **env) for wid in ids]
    try:
        await workers_up(store, ids, timeout=120)  # start-up is not first contact
        t_warm = time.perf_counter()
        warm = await store.jobs.submit(_job(names))
        await wait_jobs(store, [warm.id], timeout=600)
        warm_s = time.perf_counter() - t_warm
        before = await published_checkouts(store, ids, len(names), timeout=3 * heartbeat + 30)
        sim_before = await sim.totals()
        pids = {
            "workers": [p.pid for p in procs],
            "simulator": [sim.proc.pid],
            "client": [os.getpid()],
        }
        profile_signal(procs, signal.SIGUSR1)
        cpu_before = cpu_seconds(pids)
        t0 = time.perf_counter()
        jobs = [(await store.jobs.submit(_job(names))).id for _ in range(rounds)]
        await wait_jobs(store, jobs, timeout=3600)
        elapsed = time.perf_counter() - t0
        cpu_after = cpu_seconds(pids)
        profile_signal(procs, signal.SIGUSR2)
        sim_after = await sim.totals()
    finally:
        for proc in procs:
            await stop_worker(proc)
    after = await pool_totals(store, ids)  # the final snapshot, written at shutdown
    failed = 0
    for job_id in jobs:
        job = await store.jobs.get(job_id, tasks=False)
        failed += job.counts.failed + job.counts.cancelled
    checkouts = after["checkouts"] - before["checkouts"]
    logins = after["logins"] - before["logins"]
    return {
        "elapsed": elapsed,
        "tasks": rounds * len(names),
        "failures": failed,
        "logins": logins,
        "checkouts": checkouts,
        "sim_logins": sim_after["logins"] - sim_before["logins"],
        "logins_total": after["logins"],
        "warm_s": warm_s,
        "checkouts_total": after["checkouts"],
        **{f"cpu_{k}": cpu_after[k] - cpu_before[k] for k in cpu_after},
    }


async def memory_phase(
    store: SqlStore, sim: SimProcess, url: str, tmp: Path, names: list[str]
) -> dict[str, float]:
    env = {
        "NETFLEET_WORKER__CONCURRENCY": "200",
        "NETFLEET_WORKER__MAX_CONNECTIONS_PER_WORKER": str(len(names) + 100),
        "NETFLEET_WORKER__MAX_IDLE_TIME_SECONDS": "3600",
    }
    proc = start_worker(url, tmp, "bench-memory", **env)
    try:
        for _ in range(400):  # until registered
            if any(w.id == "bench-memory" for w in await store.workers.list()):
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(HEARTBEAT_S)
        before = psutil.Process(proc.pid).memory_info().rss
        job = await store.jobs.submit(_job(names))
        await wait_jobs(store, [job.id], timeout=600)
        counts = (await store.jobs.get(job.id, tasks=False)).counts
        held = 0
        for _ in range(100):  # until every session is back in the pool, idle
            held = await _idle_sessions(store)
            if held >= len(names):
                break
            await asyncio.sleep(HEARTBEAT_S)
        after = psutil.Process(proc.pid).memory_info().rss
        open_on_sim = (await sim.totals())["sessions_open"]
    finally:
        await stop_worker(proc)
    return {
        "sessions": held,
        "sim_open": open_on_sim,
        "failed": counts.failed,
        "rss_before": before,
        "rss_after": after,
    }


async def _idle_sessions(store: SqlStore) -> int:
    for w in await store.workers.list():
        if w.id == "bench-memory":
            return int(w.stats.get("pool", {}).get("idle", 0))
    return 0


def _job(names: list[str]) -> JobSpec:
    return JobSpec.model_validate({"targets": {"devices": names}, "commands": COMMANDS})


# --- main -------------------------------------------------------------------------------


async def main(args: argparse.Namespace) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="netfleet-bench-"))
    total_devices = max(args.devices, args.idle_sessions)
    sim = SimProcess(total_devices, tmp)
    db_name = None
    try:
        await sim.ready()
        url, db_name = fresh_database(tmp, not args.sqlite)
        store = await open_store(url, settings=Settings(secret_key=KEY))
        try:
            specs = load_inventory(sim.inventory).devices
            report = await store.devices.import_many(specs)
            assert report.ok, report
            main_specs = specs[: args.devices]
            names = [s.name for s in main_specs]
            rounds = max(1, args.tasks // args.devices)

            base = await baseline(main_specs, rounds, args.workers * args.concurrency, sim)
            queue = await queue_phase(
                store,
                sim,
                url,
                tmp,
                names,
                rounds,
                args.workers,
                args.concurrency,
                args.heartbeat,
            )
            memory = None
            if args.idle_sessions:
                memory = await memory_phase(
                    store, sim, url, tmp, [s.name for s in specs[: args.idle_sessions]]
                )
        finally:
            await store.close()
    finally:
        sim.stop()
        drop_database(db_name)

    backend = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
    base_rate = base["tasks"] / base["elapsed"]
    queue_rate = queue["tasks"] / queue["elapsed"]
    reuse = 1 - queue["logins"] / queue["checkouts"] if queue["checkouts"] else 0.0
    reuse_all = 1 - queue["logins_total"] / queue["checkouts_total"]
    sim_logins = queue["sim_logins"]
    print(
        f"\n{queue['tasks']:,} tasks over {args.devices:,} devices, "
        f"{args.workers} worker processes x concurrency {args.concurrency}, {backend}, "
        f"heartbeat {args.heartbeat:g} s\n"
    )
    print("| run | tasks/s | ratio vs baseline | failed | logins | session reuse |")
    print("|---|---|---|---|---|---|")
    print(
        f"| direct, 1 process, no queue (baseline) | {base_rate:,.0f} | 1.00 | "
        f"{base['failures']:.0f} | {base['logins']:.0f} | "
        f"{1 - base['logins'] / base['checkouts']:.1%} |"
    )
    print(
        f"| queue + {args.workers} workers ({backend}) | {queue_rate:,.0f} | "
        f"{queue_rate / base_rate:.2f} | {queue['failures']:.0f} | {queue['logins']:.0f} | "
        f"{reuse:.1%} |"
    )
    print(
        f"\nsession reuse incl. the warm-up job: {reuse_all:.1%}; "
        f"simulator logins during the measured jobs: {sim_logins}"
    )
    print(
        f"first contact (the warm-up: a login per device, {args.devices:,} devices): "
        f"direct {base['warm_s']:.2f} s, queue {queue['warm_s']:.2f} s, "
        f"ratio {queue['warm_s'] / base['warm_s']:.2f}"
    )
    print("\nCPU seconds per 1,000 measured tasks:\n")
    print("| run | wall | " + " | ".join(CPU_PARTS) + " | total |")
    print("|---|---|" + "---|" * (len(CPU_PARTS) + 1))
    for label, run in (("baseline", base), ("queue", queue)):
        per_k = 1000 / run["tasks"]
        cpu = [run.get(f"cpu_{k}", 0.0) * per_k for k in CPU_PARTS]
        print(
            f"| {label} | {run['elapsed'] * per_k:.2f} | "
            + " | ".join(f"{v:.2f}" for v in cpu)
            + f" | {sum(cpu):.2f} |"
        )
    print(f"\nload average at the end: {os.getloadavg()[0]:.1f}")
    if memory is None:
        return
    kb = (memory["rss_after"] - memory["rss_before"]) / 1024 / max(1, memory["sessions"])
    print("\n| worker memory | value |")
    print("|---|---|")
    print(f"| RSS before sessions | {memory['rss_before'] / 2**20:.1f} MiB |")
    print(
        f"| RSS holding {memory['sessions']:.0f} idle sessions | "
        f"{memory['rss_after'] / 2**20:.1f} MiB |"
    )
    print(f"| per idle session | {kb:.1f} KiB |")
    print(f"| sessions open on the simulator | {memory['sim_open']:.0f} |")
    print(f"| tasks failed | {memory['failed']:.0f} |")


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--smoke", action="store_true", help="tiny numbers (a few seconds)")
    p.add_argument("--devices", type=int, default=1000)
    p.add_argument("--tasks", type=int, default=10_000)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--concurrency", type=int, default=100)
    p.add_argument(
        "--heartbeat",
        type=float,
        default=5.0,
        help="the queue workers' heartbeat_seconds (default: the product's, 5 s)",
    )
    p.add_argument("--idle-sessions", type=int, default=2000)
    p.add_argument("--sqlite", action="store_true", help="use SQLite instead of PostgreSQL")
    args = p.parse_args()
    if args.smoke:
        args.devices, args.tasks, args.concurrency, args.idle_sessions = 20, 100, 10, 40
    return args


if __name__ == "__main__":
    asyncio.run(main(parse_args()))

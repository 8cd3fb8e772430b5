"""Chaos: worker processes killed, paused and stopped, devices dropped and hung, and
(full mode) a private PostgreSQL restarted, while jobs run; then check that nothing
was lost, nothing is stuck, no config ran twice, no device went over its session
limit, and the store counts exactly the sessions open.

Ground truth comes from the simulator (its own per-device session peaks, sessions
open now, and how many times each line was received). Per backend (SQLite and
PostgreSQL), bounded in time. After the chaos the script waits on conditions, not
fixed times: until the replacement workers heartbeat, then until every task is
terminal (bounded by ``--settle``), then until the counts are exact. It exits 1 if
any task was lost or stuck, any config ran twice, any device went over its limit
or any phantom hold remained. When settling or exactness fails it writes a diagnostic
dump (``harness/chaos_dump.py``) into the run's directory; ``--keep`` keeps that
directory and the database (or the private cluster) then.

    .venv/bin/python benchmarks/chaos.py             # about 5 minutes
    .venv/bin/python benchmarks/chaos.py --smoke     # about a minute (CI)
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import random
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.chaos_dump import dump
from harness.chaos_support import (
    TERMINAL,
    delete,
    device_stats,
    exact_counts,
    fence_counts,
    post_json,
    report,
    until_terminal,
    workers_beating,
)
from harness.private_pg import PrivatePostgres, create_database
from netfleet.core.errors import NetfleetError
from netfleet.core.inventory import load_inventory
from netfleet.core.settings import Settings
from netfleet.jobs.model import JobSpec
from netfleet.store import open_store
from worker_e2e import KEY, SimProcess, drop_database, fresh_database, start_worker

LIMIT = 2
"""netfleet's session limit per device (the simulator accepts 8)."""
LEASE_S = 3.0
HEARTBEAT_S = 0.5
WORKER_ENV = {
    "NETFLEET_WORKER__LEASE_SECONDS": str(LEASE_S),
    "NETFLEET_WORKER__HEARTBEAT_SECONDS": str(HEARTBEAT_S),
    "NETFLEET_WORKER__POLL_SECONDS": "0.2",
    "NETFLEET_WORKER__DRAIN_TIMEOUT_SECONDS": "2",
    "NETFLEET_WORKER__CONCURRENCY": "20",
    "NETFLEET_WORKER__TIMEOUT_SECONDS": "3",
}


@dataclass
class Chaos:
    """The worker processes and what was done to them."""

    url: str
    tmp: Path
    sim: SimProcess
    rng: random.Random
    pg: PrivatePostgres | None = None
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)
    ids: dict[int, str] = field(default_factory=dict)
    """Worker id of each process (by pid)."""
    started: int = 0
    actions: dict[str, int] = field(default_factory=dict)
    paused: set[int] = field(default_factory=set)
    lease_s: float = LEASE_S
    registered: set[str] = field(default_factory=set)
    """Worker ids the store has seen heartbeat (refreshed during the chaos)."""
    struck: set[int] = field(default_factory=set)
    """Pids already killed or terminated (still exiting: not struck again)."""
    most_alive: int = 0

    def start(self) -> None:
        self.started += 1
        name = f"chaos-{self.started}"
        env = {**WORKER_ENV, "NETFLEET_WORKER__LEASE_SECONDS": str(self.lease_s)}
        proc = start_worker(self.url, self.tmp, name, **env)
        self.workers.append(proc)
        self.ids[proc.pid] = name
        self.most_alive = max(self.most_alive, len(self.live()))

    def live(self) -> list[subprocess.Popen[bytes]]:
        return [w for w in self.workers if w.poll() is None]

    def live_ids(self) -> set[str]:
        return {self.ids[w.pid] for w in self.live()}

    def topped_up(self, n: int) -> set[str]:
        """Start workers until ``n`` live (replacing any that exited); their ids."""
        while len(self.live()) < n:
            self.start()
        return self.live_ids()

    async def restart_database(self) -> None:
        """Stop the private PostgreSQL like a crash, keep it down 1-4 s, start it."""
        assert self.pg is not None
        self.count("pg_restart")
        down = self.rng.uniform(1.0, 4.0)
        await asyncio.to_thread(self.pg.restart, down_s=down)

    def count(self, action: str) -> None:
        self.actions[action] = self.actions.get(action, 0) + 1

    async def refresh_registered(self, store: Any) -> None:
        """Note which workers have reached ``running`` (signal handlers in place; kept as
        is while the database is down)."""
        with contextlib.suppress(NetfleetError):
            self.registered |= {w.id for w in await store.workers.list() if w.state == "running"}

    async def act(self, devices: list[str]) -> None:
        action = self.rng.choice(["kill", "pause", "term", "drop", "hang"])
        # Only workers that are up: one still importing (tens of seconds on a loaded
        # machine) would die before it ran anything, and the run would measure start-up.
        live = [
            w
            for w in self.live()
            if w.pid not in self.paused | self.struck and self.ids[w.pid] in self.registered
        ]
        if action in ("kill", "pause", "term") and not live:
            return
        self.count(action)
        # A struck worker is replaced at once and not struck again while it exits (a
        # draining worker struck again was replaced again: workers multiplied).
        if action == "kill":
            victim = self.rng.choice(live)
            self.struck.add(victim.pid)
            victim.kill()
            self.start()
        elif action == "term":
            victim = self.rng.choice(live)
            self.struck.add(victim.pid)
            victim.send_signal(signal.SIGTERM)
            self.start()
        elif action == "pause":
            victim = self.rng.choice(live)
            self.paused.add(victim.pid)
            victim.send_signal(signal.SIGSTOP)
            await asyncio.sleep(self.rng.uniform(0.3, 0.8) * self.lease_s)
            victim.send_signal(signal.SIGCONT)
            self.paused.discard(victim.pid)
        elif action == "drop":
            await asyncio.to_thread(self.sim.post, f"/devices/{self.rng.choice(devices)}/reboot")
        else:
            name = self.rng.choice(devices)
            await asyncio.to_thread(
                post_json, self.sim, f"/devices/{name}/faults", {"hang_on": "show version"}
            )
            await asyncio.sleep(self.rng.uniform(0.5, 2.0))
            await asyncio.to_thread(delete, self.sim, f"/devices/{name}/faults")

    def stop_all(self) -> None:
        for w in self.workers:
            if w.poll() is None:
                w.send_signal(signal.SIGCONT)
                w.send_signal(signal.SIGTERM)
        for w in self.workers:
            with contextlib.suppress(subprocess.TimeoutExpired):
                w.wait(timeout=30)
            if w.poll() is None:
                w.kill()


async def start_sim(devices: int, tmp: Path) -> SimProcess:
    """The simulator, ready; retried when its control port was taken meanwhile (the
    port is picked free, then bound by the simulator: another process may get it)."""
    for attempt in range(3):
        sim = SimProcess(devices, tmp)
        try:
            await sim.ready()
            return sim
        except SystemExit:
            sim.stop()
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


async def open_database(
    args: argparse.Namespace, tmp: Path, use_pg: bool
) -> tuple[str, str | None, PrivatePostgres | None]:
    """(URL, shared PostgreSQL database to drop, private cluster to stop)."""
    if use_pg and args.pg_restart:
        pg = PrivatePostgres()
        try:
            url = create_database(await asyncio.to_thread(pg.start), "chaos")
        except BaseException:
            pg.stop()
            raise
        return url, None, pg
    url, db_name = fresh_database(tmp, use_pg)
    return url, db_name, None


async def run_backend(args: argparse.Namespace, use_pg: bool) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix="netfleet-chaos-"))
    sim = await start_sim(args.devices, tmp)
    db_name: str | None = None
    pg: PrivatePostgres | None = None
    rng = random.Random(args.seed)
    chaos: Chaos | None = None
    failed = False
    try:
        url, db_name, pg = await open_database(args, tmp, use_pg)
        store = await open_store(url, settings=Settings(secret_key=KEY))
        try:
            specs = [
                dataclasses.replace(s, max_sessions=LIMIT)
                for s in load_inventory(sim.inventory).devices
            ]
            assert (await store.devices.import_many(specs)).ok
            names = [s.name for s in specs]
            await asyncio.to_thread(sim.post, "/reset-stats")
            chaos = Chaos(url, tmp, sim, rng, pg, lease_s=args.lease)
            for _ in range(args.workers):
                chaos.start()
            started_s = await workers_beating(
                store, chaos.live_ids, fresh_s=10 * HEARTBEAT_S, timeout=args.start_timeout
            )
            jobs: list[int] = []
            config_lines: dict[int, str] = {}
            expected = 0
            t0 = time.monotonic()
            end = t0 + args.seconds
            next_action = t0 + 1.0
            restart_at = t0 + args.seconds / 2 if pg is not None else float("inf")
            pending: set[asyncio.Future[None]] = set()
            while time.monotonic() < end:
                if len(jobs) < args.jobs:
                    targets = rng.sample(names, k=min(len(names), args.per_job))
                    if len(jobs) % 3 == 2:
                        line = f"description chaos-{len(jobs)}"
                        spec = {"targets": {"devices": targets}, "config": ["interface Lo9", line]}
                    else:
                        line = ""
                        spec = {"targets": {"devices": targets}, "commands": ["show version"]}
                    try:
                        job = await store.jobs.submit(JobSpec.model_validate(spec))
                    except NetfleetError:
                        await asyncio.sleep(0.5)  # the database restarting: submit later
                        continue
                    jobs.append(job.id)
                    expected += len(targets)
                    if line:
                        config_lines[job.id] = line
                if time.monotonic() >= restart_at:
                    restart_at = float("inf")
                    pending.add(asyncio.ensure_future(chaos.restart_database()))
                if time.monotonic() >= next_action:
                    await chaos.refresh_registered(store)
                    pending.add(asyncio.ensure_future(chaos.act(names)))
                    pending = {f for f in pending if not f.done()}
                    next_action = time.monotonic() + rng.uniform(0.3, 1.5) * args.chaos_every
                await asyncio.sleep(0.05)
            chaos_s = time.monotonic() - t0
            await asyncio.gather(*pending)  # paused workers resumed, hangs cleared
            # Calm: faults clear, enough workers run, and they all heartbeat again.
            await asyncio.to_thread(delete, sim, "/faults")
            replaced_s = await workers_beating(
                store,
                lambda: chaos.topped_up(args.workers),
                fresh_s=10 * HEARTBEAT_S,
                timeout=args.start_timeout,
            )
            states, settle_s = await until_terminal(store, jobs, expected, timeout=args.settle)
            elapsed = time.monotonic() - t0
            label = "postgresql" if use_pg else "sqlite"
            pids = {w.pid: chaos.ids[w.pid] for w in chaos.live()}
            unsettled = len(states) < expected or any(s not in TERMINAL for _, s, _ in states)
            if unsettled:
                failed = True
                await dump(store, sim, pids, tmp / f"dump-{label}-settle.json", why="not settled")
            # Exactness: after a heartbeat or two, the store counts what the devices have.
            phantom, missing = await exact_counts(store, sim, names, timeout=20.0)
            if phantom or missing:
                failed = True
                await dump(store, sim, pids, tmp / f"dump-{label}-exact.json", why="not exact")
            elif args.dump:
                await dump(store, sim, pids, tmp / f"dump-{label}-end.json", why="asked")
            stats = await asyncio.to_thread(device_stats, sim)
            fences = await fence_counts(store)
            await chaos.refresh_registered(store)
            duplicates = sum(
                1
                for line in config_lines.values()
                for name in names
                if stats[name]["line_counts"].get(line, 0) > 1
            )
            kinds: dict[str, int] = {}
            for _, state, kind in states:
                if state == "failed":
                    kinds[kind or "unknown"] = kinds.get(kind or "unknown", 0) + 1
            return {
                "backend": ("PostgreSQL" if url.startswith("postgresql") else "SQLite")
                + (" (restarted)" if pg is not None else ""),
                "tasks": expected,
                "lost": expected - len(states),
                "stuck": sum(
                    1 for _, s, _ in states if s not in ("succeeded", "failed", "cancelled")
                ),
                "succeeded": sum(1 for _, s, _ in states if s == "succeeded"),
                "failed_by_kind": kinds,
                "duplicates": duplicates,
                "limit_violations": sum(1 for n in names if stats[n]["peak_sessions"] > LIMIT),
                "phantom_holds": phantom,
                "uncounted_sessions": missing,
                "actions": dict(chaos.actions),
                "workers_started": chaos.started,
                "workers_registered": len(chaos.registered),
                "most_alive": chaos.most_alive,
                "chaos_s": chaos_s,
                "elapsed_s": elapsed,
                "fences": fences,
                "waits": f"start {started_s:.0f} s, replacements {replaced_s:.0f} s, "
                f"settle {settle_s:.0f} s",
            }
        finally:
            if chaos is not None:
                chaos.stop_all()
            await store.close()
    finally:
        sim.stop()
        keep = args.keep and failed
        if keep:
            print(f"\nkept on failure: {tmp} (SQLite file, worker and simulator logs, dumps)")
            if db_name is not None:
                print(f"kept database {db_name}")
        else:
            drop_database(db_name)
        if pg is not None:
            pg.stop(keep=keep)
            if keep:
                print(f"kept PostgreSQL cluster: {pg.start_command()}")


async def main(args: argparse.Namespace) -> int:
    results = []
    for backend in args.backends:
        results.append(await run_backend(args, backend == "postgresql"))
    return report(results)


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--smoke", action="store_true", help="under a minute (CI)")
    p.add_argument("--devices", type=int, default=200)
    p.add_argument("--workers", type=int, default=4)
    p.add_argument("--jobs", type=int, default=600, help="jobs submitted during the chaos")
    p.add_argument("--per-job", type=int, default=10, help="devices per job")
    p.add_argument("--seconds", type=float, default=120.0, help="chaos duration per backend")
    p.add_argument(
        "--duration", dest="seconds", type=float, default=argparse.SUPPRESS, help="= --seconds"
    )
    p.add_argument(
        "--settle", type=float, default=180.0, help="at most this long for every task to finish"
    )
    p.add_argument(
        "--start-timeout", type=float, default=300.0, help="at most this long for workers to beat"
    )
    p.add_argument(
        "--pg-restart",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="PostgreSQL on a private cluster restarted mid-run (default: not with --smoke)",
    )
    p.add_argument("--chaos-every", type=float, default=1.0, help="mean seconds between faults")
    p.add_argument("--seed", type=int, default=12)
    p.add_argument(
        "--lease", type=float, default=LEASE_S, help="the workers' lease (s); pauses scale with it"
    )
    p.add_argument(
        "--keep",
        action="store_true",
        help="on a failed settle or exactness check keep the SQLite file, the database or "
        "the private PostgreSQL cluster (stopped; its start command is printed)",
    )
    p.add_argument("--dump", action="store_true", help="write the diagnostic dump at the end")
    p.add_argument("--backend", dest="backends", action="append", choices=["sqlite", "postgresql"])
    args = p.parse_args()
    args.backends = args.backends or ["sqlite", "postgresql"]
    if args.smoke:
        args.devices, args.workers, args.jobs, args.per_job = 12, 3, 40, 4
        args.seconds = 8.0
    if args.pg_restart is None:
        args.pg_restart = not args.smoke
    return args


if __name__ == "__main__":
    sys.exit(asyncio.run(main(parse_args())))

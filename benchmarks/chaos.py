"""Chaos: worker processes killed, paused and stopped, devices dropped and hung, while
jobs run; then check that nothing was lost, nothing is stuck, no config ran twice, no
device went over its session limit, and the store counts exactly the sessions open.

Ground truth comes from the simulator (its own per-device session peaks, sessions
open now, and how many times each line was received). Per backend (SQLite and
PostgreSQL), bounded in time:

    .venv/bin/python benchmarks/chaos.py             # about 5 minutes
    .venv/bin/python benchmarks/chaos.py --smoke     # under a minute (CI)
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import random
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from netfleet.core.inventory import load_inventory
from netfleet.core.settings import Settings
from netfleet.jobs.model import JobSpec
from netfleet.store import SqlStore, open_store
from worker_e2e import KEY, SimProcess, drop_database, fresh_database, start_worker

LIMIT = 2
"""netfleet's session limit per device (the simulator accepts 8)."""
LEASE_S = 3.0
WORKER_ENV = {
    "NETFLEET_WORKER__LEASE_SECONDS": str(LEASE_S),
    "NETFLEET_WORKER__HEARTBEAT_SECONDS": "0.5",
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
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)
    started: int = 0
    actions: dict[str, int] = field(default_factory=dict)
    paused: set[int] = field(default_factory=set)

    def start(self) -> None:
        self.started += 1
        self.workers.append(start_worker(self.url, self.tmp, f"chaos-{self.started}", **WORKER_ENV))

    def live(self) -> list[subprocess.Popen[bytes]]:
        return [w for w in self.workers if w.poll() is None]

    def count(self, action: str) -> None:
        self.actions[action] = self.actions.get(action, 0) + 1

    async def act(self, devices: list[str]) -> None:
        action = self.rng.choice(["kill", "pause", "term", "drop", "hang"])
        live = [w for w in self.live() if w.pid not in self.paused]
        if action in ("kill", "pause", "term") and not live:
            return
        self.count(action)
        if action == "kill":
            self.rng.choice(live).kill()
            self.start()
        elif action == "term":
            self.rng.choice(live).send_signal(signal.SIGTERM)
            self.start()
        elif action == "pause":
            victim = self.rng.choice(live)
            self.paused.add(victim.pid)
            victim.send_signal(signal.SIGSTOP)
            await asyncio.sleep(self.rng.uniform(0.3, 0.8) * LEASE_S)
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


def post_json(sim: SimProcess, path: str, body: dict[str, Any]) -> None:
    req = urllib.request.Request(
        f"http://127.0.0.1:{sim.control}{path}",
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=30):
        pass


def delete(sim: SimProcess, path: str) -> None:
    req = urllib.request.Request(f"http://127.0.0.1:{sim.control}{path}", method="DELETE")
    with urllib.request.urlopen(req, timeout=30):
        pass


def device_stats(sim: SimProcess) -> dict[str, dict[str, Any]]:
    data = sim.get("/devices")
    devices = data["devices"] if isinstance(data, dict) else data
    return {d["name"]: d for d in devices}


async def counted(store: SqlStore) -> dict[str, int]:
    def op(conn: sa.Connection) -> dict[str, int]:
        rows = conn.execute(
            sa.text(
                "SELECT d.name, s.running FROM device_slots s JOIN devices d ON d.id = s.device_id"
            )
        ).all()
        return {str(n): int(r) for n, r in rows}

    return await store.db.run(op, write=False)


async def task_states(store: SqlStore, job_ids: list[int]) -> list[tuple[int, str, str | None]]:
    def op(conn: sa.Connection) -> list[tuple[int, str, str | None]]:
        rows = conn.execute(
            sa.text("SELECT job_id, state, error_kind FROM tasks WHERE job_id IN :ids").bindparams(
                sa.bindparam("ids", expanding=True)
            ),
            {"ids": job_ids},
        ).all()
        return [(int(j), str(s), k) for j, s, k in rows]

    return await store.db.run(op, write=False)


async def registered(store: SqlStore, count: int, timeout: float = 300.0) -> None:
    """Wait for ``count`` workers to run (imports take a while on a loaded machine)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if sum(w.state == "running" for w in await store.workers.list()) >= count:
            return
        await asyncio.sleep(0.2)
    raise SystemExit(f"{count} workers did not start within {timeout:.0f} s")


async def run_backend(args: argparse.Namespace, use_pg: bool) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix="netfleet-chaos-"))
    sim = SimProcess(args.devices, tmp)
    db_name = None
    rng = random.Random(args.seed)
    chaos: Chaos | None = None
    try:
        await sim.ready()
        url, db_name = fresh_database(tmp, use_pg)
        store = await open_store(url, settings=Settings(secret_key=KEY))
        try:
            specs = [
                dataclasses.replace(s, max_sessions=LIMIT)
                for s in load_inventory(sim.inventory).devices
            ]
            assert (await store.devices.import_many(specs)).ok
            names = [s.name for s in specs]
            await asyncio.to_thread(sim.post, "/reset-stats")
            chaos = Chaos(url, tmp, sim, rng)
            for _ in range(args.workers):
                chaos.start()
            await registered(store, args.workers)
            jobs: list[int] = []
            config_lines: dict[int, str] = {}
            expected = 0
            t0 = time.monotonic()
            end = t0 + args.seconds
            next_action = t0 + 1.0
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
                    job = await store.jobs.submit(JobSpec.model_validate(spec))
                    jobs.append(job.id)
                    expected += len(targets)
                    if line:
                        config_lines[job.id] = line
                if time.monotonic() >= next_action:
                    pending.add(asyncio.ensure_future(chaos.act(names)))
                    pending = {f for f in pending if not f.done()}
                    next_action = time.monotonic() + rng.uniform(0.3, 1.5) * args.chaos_every
                await asyncio.sleep(0.05)
            chaos_s = time.monotonic() - t0
            await asyncio.gather(*pending)
            # Calm: everything paused resumes, faults clear, enough workers run.
            await asyncio.sleep(LEASE_S)
            await asyncio.to_thread(delete, sim, "/faults")
            while len(chaos.live()) < args.workers:
                chaos.start()
            deadline = time.monotonic() + args.settle
            states: list[tuple[int, str, str | None]] = []
            while time.monotonic() < deadline:
                states = await task_states(store, jobs)
                if all(s in ("succeeded", "failed", "cancelled") for _, s, _ in states):
                    break
                await asyncio.sleep(0.5)
            elapsed = time.monotonic() - t0
            # Exactness: after a heartbeat or two, the store counts what the devices have.
            phantom = missing = 0
            for _ in range(40):
                store_count = await counted(store)
                at_device = await asyncio.to_thread(device_stats, sim)
                phantom = sum(
                    max(0, store_count.get(n, 0) - at_device[n]["sessions_open"]) for n in names
                )
                missing = sum(
                    max(0, at_device[n]["sessions_open"] - store_count.get(n, 0)) for n in names
                )
                if not phantom and not missing:
                    break
                await asyncio.sleep(0.5)
            stats = await asyncio.to_thread(device_stats, sim)
            duplicates = 0
            for line in config_lines.values():
                for name in names:
                    if stats[name]["line_counts"].get(line, 0) > 1:
                        duplicates += 1
            kinds: dict[str, int] = {}
            for _, state, kind in states:
                if state == "failed":
                    kinds[kind or "unknown"] = kinds.get(kind or "unknown", 0) + 1
            return {
                "backend": "PostgreSQL" if url.startswith("postgresql") else "SQLite",
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
                "chaos_s": chaos_s,
                "elapsed_s": elapsed,
            }
        finally:
            if chaos is not None:
                chaos.stop_all()
            await store.close()
    finally:
        sim.stop()
        drop_database(db_name)


async def main(args: argparse.Namespace) -> int:
    results = []
    for backend in args.backends:
        results.append(await run_backend(args, backend == "postgresql"))
    print("\n| backend | tasks | succeeded | lost | stuck | config run twice | over limit | "
          "phantom holds | uncounted | rate (tasks/s) | success ratio |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    bad = 0
    for r in results:
        rate = r["tasks"] / r["elapsed_s"] if r["elapsed_s"] else 0.0
        print(
            f"| {r['backend']} | {r['tasks']} | {r['succeeded']} | {r['lost']} | {r['stuck']} | "
            f"{r['duplicates']} | {r['limit_violations']} | {r['phantom_holds']} | "
            f"{r['uncounted_sessions']} | {rate:.1f} | {r['succeeded'] / max(1, r['tasks']):.2f} |"
        )
        bad += r["lost"] + r["duplicates"]  # the rest depends on the machine's load
    for r in results:
        print(f"\n{r['backend']}: actions {r['actions']}, workers started {r['workers_started']}, "
              f"failed by kind {r['failed_by_kind']}, chaos {r['chaos_s']:.0f} s, "
              f"total {r['elapsed_s']:.0f} s")  # fmt: skip
    return 1 if bad else 0


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--smoke", action="store_true", help="under a minute (CI)")
    p.add_argument("--devices", type=int, default=200)
    p.add_argument("--workers", type=int, default=4)
    p.add_argument("--jobs", type=int, default=600, help="jobs submitted during the chaos")
    p.add_argument("--per-job", type=int, default=10, help="devices per job")
    p.add_argument("--seconds", type=float, default=120.0, help="chaos duration per backend")
    p.add_argument("--settle", type=float, default=60.0, help="time allowed to finish after")
    p.add_argument("--chaos-every", type=float, default=1.0, help="mean seconds between faults")
    p.add_argument("--seed", type=int, default=12)
    p.add_argument("--backend", dest="backends", action="append", choices=["sqlite", "postgresql"])
    args = p.parse_args()
    args.backends = args.backends or ["sqlite", "postgresql"]
    if args.smoke:
        args.devices, args.workers, args.jobs, args.per_job = 12, 3, 40, 4
        args.seconds, args.settle = 8.0, 45.0
    return args


if __name__ == "__main__":
    sys.exit(asyncio.run(main(parse_args())))

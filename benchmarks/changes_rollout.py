"""Staged rollouts: the cost of releasing tasks batch by batch, against a plain job.

Two measurements, each a ratio against a baseline run in the same process:

- queue: a config job on N devices drained by a claim/complete loop (no devices,
  the store alone, SQLite file and PostgreSQL when reachable): a plain job with the
  gate hook switched off (the code before rollouts), a plain job with it on (what
  every job now pays), and a 4-batch rollout. Also the submit time of each, and the
  release latency: the time from the completion that ends a batch to the next
  batch being claimable (the completion transaction that releases it).
- push: the same config line pushed to M simulated Cisco IOS devices (in-process
  simulator over SSH on loopback) by an in-process worker, plain against a 4-batch
  rollout, wall time.

    .venv/bin/python benchmarks/changes_rollout.py            # 2,000 tasks, 100 devices
    .venv/bin/python benchmarks/changes_rollout.py --smoke    # a few seconds (CI)
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any, cast

import sqlalchemy as sa
from cryptography.fernet import Fernet

from netfleet.core.errors import NotFound
from netfleet.core.models import Credential, DeviceSpec
from netfleet.core.settings import (
    ConnectSettings,
    DatabaseSettings,
    ServiceSettings,
    Settings,
    WorkerSettings,
)
from netfleet.jobs.model import JobSpec
from netfleet.store import SqlStore, open_store
from netfleet.store.records import TaskOutcome
from netfleet.store.sql import gates as gates_sql
from netfleet_sim.device import DEFAULT_ENABLE_SECRET

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
KEY = Fernet.generate_key()
OK = TaskOutcome("succeeded")
ROLLOUT = {"canary": 0, "batches": ["25%"], "max_failures": "5%"}
"""Four batches of a quarter each."""


@contextlib.contextmanager
def hook_off() -> Iterator[None]:
    """The completion path as it was before gates (for the baseline)."""
    original = gates_sql.after_transitions
    gates_sql.after_transitions = lambda conn, rows, derived, now: {}
    try:
        yield
    finally:
        gates_sql.after_transitions = original


@contextlib.asynccontextmanager
async def postgres() -> AsyncIterator[str | None]:
    name = f"nf_bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as c:
            c.execute(sa.text(f"CREATE DATABASE {name}"))
    except sa.exc.OperationalError:
        admin.dispose()
        yield None
        return
    try:
        yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    finally:
        with admin.connect() as c:
            c.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


def device(name: str, port: int, password: str = "pw") -> DeviceSpec:
    return DeviceSpec(
        name=name,
        host="127.0.0.1",
        port=port,
        platform="cisco_ios",
        credentials=(
            Credential("admin", password=password, enable_secret=DEFAULT_ENABLE_SECRET, name="lab"),
        ),
        max_sessions=2,
        groups=("bench",),
    )


def spec(rollout: bool, name: str, devices: list[str] | None = None) -> JobSpec:
    options: dict[str, Any] = {"rollout": ROLLOUT} if rollout else {}
    targets: dict[str, Any] = {"devices": devices} if devices else {"groups": ["bench"]}
    return JobSpec.model_validate(
        {
            "name": name,
            "targets": targets,
            "config": ["ntp server 192.0.2.1"],
            "options": options,
        }
    )


async def released_batches(store: SqlStore, job_id: int) -> int:
    """Rollout batches released so far (0 without a rollout)."""
    try:
        return (await store.changes.gate(job_id)).batch
    except NotFound:
        return 0


async def drain(
    store: SqlStore, job_id: int, batch: int, rollout: bool
) -> tuple[float, list[float], list[float]]:
    """Claim and complete until the job finished; (seconds in claims and completions,
    completion times of the completions that released a batch, of the others)."""
    releasing: list[float] = []
    others: list[float] = []
    busy = 0.0
    while True:
        t0 = time.perf_counter()
        claimed = await store.claims.claim("bench", batch, lease_s=60)
        busy += time.perf_counter() - t0
        if not claimed:
            job = await store.jobs.get(job_id, tasks=False)
            if job.finished_at is not None:
                return busy, releasing, others
            raise AssertionError(f"job {job_id} is {job.state} with nothing to claim")
        items = [(t.task_id, t.attempt, OK) for t in claimed]
        batch_before = await released_batches(store, job_id) if rollout else 0
        t0 = time.perf_counter()
        await store.completions.complete_many("bench", items)
        elapsed = time.perf_counter() - t0
        busy += elapsed
        if rollout and await released_batches(store, job_id) > batch_before:
            releasing.append(elapsed)
        else:
            others.append(elapsed)


async def hook_cost_us(store: SqlStore, job_id: int, calls: int = 2000) -> float:
    """Microseconds the gate hook adds to a completion transaction of a job without
    a gate (the lookup every job now pays), measured inside one transaction."""

    def op(conn: sa.Connection) -> float:
        rows = cast(dict[int, Any], {job_id: None})
        derived: dict[int, Any] = {job_id: "running"}
        t0 = time.perf_counter()
        for _ in range(calls):
            gates_sql.after_transitions(conn, rows, derived, 0.0)
        return (time.perf_counter() - t0) / calls * 1e6

    return await store.db.run(op, what="time the gate hook", write=False)


async def queue_run(url: str, n: int, batch: int, rounds: int) -> dict[str, Any]:
    store = await open_store(url, secret_key=KEY)
    try:
        for i in range(n):
            await store.devices.upsert(device(f"d-{i:05d}", 10_000 + i))
        await drain(store, (await store.jobs.submit(spec(False, "warm-up"))).id, batch, False)
        runs: dict[str, list[tuple[float, float]]] = {}
        releasing: list[float] = []
        others: list[float] = []
        for _ in range(rounds):
            for label, rollout, hook in (
                ("plain_before", False, False),
                ("plain", False, True),
                ("rollout", True, True),
            ):
                with contextlib.ExitStack() as stack:
                    if not hook:
                        stack.enter_context(hook_off())
                    t0 = time.perf_counter()
                    job = await store.jobs.submit(spec(rollout, label))
                    submit_s = time.perf_counter() - t0
                    wall, rel, oth = await drain(store, job.id, batch, rollout)
                runs.setdefault(label, []).append((submit_s, wall))
                if rollout:
                    releasing += rel
                    others += oth
        out: dict[str, Any] = {
            label: {
                "submit_s": statistics.median(s for s, _ in values),
                "wall_s": statistics.median(w for _, w in values),
            }
            for label, values in runs.items()
        }
        out["releasing_s"] = releasing
        out["others_s"] = others
        out["hook_us"] = await hook_cost_us(store, job.id)
        return out
    finally:
        await store.close()


async def push_run(m: int, tmp: Path) -> dict[str, float]:
    from netfleet.api.runtime import EmbeddedRuntime
    from netfleet_sim import Simulator

    settings = Settings(
        database=DatabaseSettings(url=f"sqlite:///{tmp / 'push.db'}"),
        service=ServiceSettings(key_file=tmp / "secret.key"),
        connect=ConnectSettings(known_hosts=tmp / "known_hosts", ssh_config=None),
        worker=WorkerSettings(concurrency=50, poll_seconds=0.05, heartbeat_seconds=1),
    )
    out: dict[str, float] = {}
    async with Simulator(devices=m, platforms=["cisco_ios"], password="pw", max_sessions=4) as sim:
        store = await open_store(settings.database.url, settings=settings, secret_key=KEY)
        runtime = EmbeddedRuntime(store, settings, workers=1, scheduler=False)
        task = asyncio.create_task(runtime.run())
        try:
            for d in sim.devices:
                await store.devices.upsert(device(d.name, d.port))
            quarter = sorted(d.name for d in sim.devices)[: max(1, m // 4)]
            runs = (
                ("warm-up", False, None),
                ("plain", False, None),
                ("quarter", False, quarter),
                ("rollout", True, None),
            )
            for label, rollout, devices in runs:
                t0 = time.perf_counter()
                job = await store.jobs.submit(spec(rollout, label, devices))
                while True:
                    final = await store.jobs.get(job.id, tasks=False)
                    if final.finished_at is not None:
                        break
                    await asyncio.sleep(0.01)
                if final.state != "succeeded":
                    detail = await store.jobs.get(job.id, outputs=False)
                    errors = {t.error for t in detail.tasks or ()}
                    raise AssertionError(f"{label}: {final.state}: {errors}")
                out[label] = time.perf_counter() - t0
        finally:
            runtime.stop(immediate=True)
            await asyncio.wait_for(task, timeout=30)
            await store.close()
    return out


def report_queue(name: str, r: dict[str, Any], n: int) -> None:
    before, plain, roll = r["plain_before"], r["plain"], r["rollout"]
    print(f"queue on {name}, {n} tasks (claim/complete in 100s, medians):")
    for label, row in (("plain, hook off", before), ("plain", plain), ("4-batch rollout", roll)):
        print(
            f"  {label:<16} submit {row['submit_s'] * 1000:8.1f} ms"
            f"   claims+completions {row['wall_s']:7.3f} s  ({n / row['wall_s']:6.0f} tasks/s)"
        )
    print(f"  ratio plain / plain-hook-off: {plain['wall_s'] / before['wall_s']:.3f}")
    print(f"  gate lookup per completion transaction (no gate): {r['hook_us']:.0f} us")
    print(f"  ratio rollout / plain:        {roll['wall_s'] / plain['wall_s']:.3f}")
    if r["releasing_s"] and r["others_s"]:
        rel = statistics.median(r["releasing_s"]) * 1000
        oth = statistics.median(r["others_s"]) * 1000
        print(
            f"  completion of 100 tasks: {oth:.1f} ms; one that releases a batch: {rel:.1f} ms "
            f"(+{rel - oth:.1f} ms per release, median of {len(r['releasing_s'])})"
        )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="small sizes (CI)")
    parser.add_argument("--tasks", type=int, default=None)
    parser.add_argument("--devices", type=int, default=None)
    args = parser.parse_args()
    n = args.tasks or (200 if args.smoke else 2000)
    m = args.devices or (12 if args.smoke else 100)
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        rounds = 2 if args.smoke else 5
        sqlite = await queue_run(f"sqlite:///{tmp / 'q.db'}", n, 100, rounds)
        report_queue("SQLite", sqlite, n)
        async with postgres() as pg:
            if pg is None:
                print("queue on PostgreSQL: skipped (not reachable)")
            else:
                report_queue("PostgreSQL", await queue_run(pg, n, 100, rounds), n)
        push = await push_run(m, tmp)
        print(f"push of one config line to {m} simulated IOS devices (in-process worker):")
        print(f"  plain            {push['plain']:.2f} s")
        print(f"  one batch alone  {push['quarter']:.2f} s  (a quarter of the devices)")
        print(f"  4-batch rollout  {push['rollout']:.2f} s")
        print(f"  ratio rollout / plain: {push['rollout'] / push['plain']:.2f}")
        print(
            f"  ratio rollout / (4 x one batch): {push['rollout'] / (4 * push['quarter']):.2f}"
            "  (1.0 = no cost beyond running the batches one after the other)"
        )


if __name__ == "__main__":
    asyncio.run(main())

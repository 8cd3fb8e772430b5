"""Notification fan-out for a 1,000-device job: one ``task.failed`` event per task.

On SQLite or PostgreSQL (``--backend``): a job of N tasks (N devices) is claimed and
every task completed as failed, in batches of 100, as workers report them. Each
scenario times that completion on a fresh store of the same size (after one untimed
job); a round runs every scenario once, in an order that changes from round to round so
that each scenario follows each other one equally often (``_order``).

- added job time, against the job with the outbox hooks switched off (the baseline):
  hooks on with a rule that names none of the completion's events (nothing to write);
  hooks on with a matching rule; the same while a delivery loop drains the previous
  job's deliveries in this process (it yields to the queue); and while the delivery
  process a worker starts (``[notifications] own_process``, the default) drains them.
  Printed: medians, ratios of medians, every scenario's spread (min-max over the
  rounds) and its ratio to the baseline of the same round (rounds interleave the
  scenarios): an added time inside the baseline's own spread is not measurable here.
  Noise-free: the statements sent during the timed job and the outbox rows written,
  and the hooks' own time (their Python and their own statements).
- fan-out throughput: the N + 1 deliveries (N ``task.failed``, one ``job.finished``)
  of each of two jobs, from outbox to a loopback HTTP receiver (its own process,
  HTTP/1.1 keep-alive), signed, through the durable queue, by the delivery process:
  deliveries per second and its CPU per delivery (first round only).

    .venv/bin/python benchmarks/notify_fanout.py                        # 1,000 devices, 5 rounds
    .venv/bin/python benchmarks/notify_fanout.py --backend postgresql
    .venv/bin/python benchmarks/notify_fanout.py --smoke                # 200 devices, 1 round
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing as mp
import os
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from cryptography.fernet import Fernet

from netfleet.core.models import DeviceSpec
from netfleet.core.settings import Settings
from netfleet.core.settings_integrations import NotificationSettings
from netfleet.jobs.model import JobSpec
from netfleet.store import SqlStore, open_store
from netfleet.store.records import ClaimedTask, TaskOutcome
from netfleet.store.records_integrations import NewRule
from netfleet.store.sql import outbox as notify_sql
from netfleet.worker.notify_loop import NotificationLoop

try:
    from netfleet.worker.notify_process import NotifyProcess
except ImportError:  # code from before the delivery process: its scenario is skipped
    NotifyProcess = None  # type: ignore[assignment,misc]

sys.path.insert(0, str(Path(__file__).resolve().parent))
from worker_e2e import drop_database, fresh_database

BATCH = 100
FAILED = TaskOutcome("failed", [], error="timed out", error_kind="timeout", retryable=False)


def _receiver(port_out: Any) -> None:
    """A minimal asyncio HTTP/1.1 receiver (keep-alive): reads each request, answers 200."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                await reader.readexactly(length)
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def serve() -> None:
        server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=1024)
        port_out.put(server.sockets[0].getsockname()[1])
        await server.serve_forever()

    asyncio.run(serve())


async def _job(store: SqlStore, names: list[str]) -> tuple[float, float]:
    """Submit, claim and fail every task of one job; wall and CPU seconds (this
    process, all threads) from the first completion to the last."""
    spec = JobSpec.model_validate(
        {"targets": {"devices": names}, "commands": ["show version"],
         "options": {"max_attempts": 1}}
    )  # fmt: skip
    await store.jobs.submit(spec)
    tasks: list[ClaimedTask] = []
    while len(tasks) < len(names):
        tasks += await store.claims.claim("bench", 1000, lease_s=600)
    started, cpu = time.perf_counter(), time.process_time()
    for i in range(0, len(tasks), BATCH):
        chunk = tasks[i : i + BATCH]
        await store.completions.complete_many("bench", [(t.task_id, 1, FAILED) for t in chunk])
    return time.perf_counter() - started, time.process_time() - cpu


HOOKS = tuple(h for h in ("tasks_failed", "failed_row", "insert_row", "ahead", "job_finished",
                          "rule_checks", "wanted") if hasattr(notify_sql, h))  # fmt: skip
"""The completion path's outbox hooks (``failed_row``, ``ahead``, ``rule_checks`` and
``wanted`` where the code has them: there ``failed_row`` builds the row the task events'
insert carries, ``ahead`` its statement, ``rule_checks`` the rule column's expression and
``wanted`` reads it)."""


@contextlib.contextmanager
def _patched(make: Callable[[str, Callable[..., Any]], Callable[..., Any]]) -> Iterator[None]:
    saved = {h: getattr(notify_sql, h) for h in HOOKS}
    for h, fn in saved.items():
        setattr(notify_sql, h, make(h, fn))
    try:
        yield
    finally:
        for h, fn in saved.items():
            setattr(notify_sql, h, fn)


def _hooks_off() -> contextlib.AbstractContextManager[None]:
    """The outbox hooks of the completion path switched off (the code before them),
    with the rule checks they read."""
    return _patched(lambda h, fn: list if h == "rule_checks" else lambda *a, **k: None)


def _hooks_timed(spent: dict[str, float]) -> contextlib.AbstractContextManager[None]:
    """The outbox hooks as they are, each one's own time added to ``spent[name]``
    (seconds): every one the completion path calls, the rule column's builder included."""

    def timed(h: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        # rule_checks too: the database's cost of its column is inside the query's, but
        # building the expression is Python work of the completion (it was 1.5-3 ms a call)
        def call(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                spent[h] = spent.get(h, 0.0) + time.perf_counter() - started

        return call

    return _patched(timed)


@contextlib.contextmanager
def _counted(out: dict[str, float]) -> Iterator[None]:
    """Statements this process sends to the database meanwhile, as ``out['statements']``
    (executemany counts once: one round trip)."""
    seen = [0]

    def count(*_: Any) -> None:
        seen[0] += 1

    sa.event.listen(sa.engine.Engine, "before_cursor_execute", count)
    try:
        yield
    finally:
        sa.event.remove(sa.engine.Engine, "before_cursor_execute", count)
        out["statements"] = float(seen[0])


KEY = Fernet.generate_key().decode()
SCENARIOS = ("baseline", "no_rule", "with_events", "in_process", "own_process")[
    : 5 if NotifyProcess is not None else 4
]
LABELS = {
    "baseline": "job completion, outbox hooks off (baseline)",
    "no_rule": "hooks on, no rule names task.failed/job.*",
    "with_events": "hooks on + matching rule, no delivery loop",
    "in_process": "... while an in-process loop delivers",
    "own_process": "... while the delivery process delivers",
}


@contextlib.asynccontextmanager
async def _fresh(
    n: int, url: str, backend: str, *, rule: str | None
) -> AsyncIterator[tuple[SqlStore, list[str]]]:
    """A new store with ``n`` devices (and the matching rule): every scenario times its
    job on a store of the same size (one earlier job, untimed)."""
    with tempfile.TemporaryDirectory() as tmp:
        db_url, pg_name = fresh_database(Path(tmp), backend == "postgresql")
        store = await open_store(db_url, secret_key=KEY)
        try:
            specs = [DeviceSpec(f"d{i:05d}", "127.0.0.1", "cisco_ios", port=10_000 + i)
                     for i in range(n)]  # fmt: skip
            await store.devices.import_many(specs)
            if rule is not None:
                events = ["config.changed"] if rule == "no_rule" else ["task.failed", "job.failed"]
                await store.notifications.create(
                    NewRule("bench", "webhook", {"events": events}, {"url": url},
                            "bench-secret-0123456789")
                )  # fmt: skip
            yield store, [s.name for s in specs]
        finally:
            await store.close()
            drop_database(pg_name)


async def _outbox_rows(store: SqlStore) -> int:
    from netfleet.store.schema_integrations import notify_events

    def op(conn: sa.Connection) -> int:
        return int(conn.execute(sa.select(sa.func.count()).select_from(notify_events)).scalar())

    return await store.db.run(op, write=False)


async def _delivered(store: SqlStore) -> int:
    return (await store.notifications.backlog()).get("delivered", 0)


async def _until_delivered(
    store: SqlStore, at_least: int, timeout: float = 300.0, *, fatal: bool = True
) -> int:
    """Wait for ``at_least`` deliveries; how many there are (fewer only if not ``fatal``)."""
    deadline = time.monotonic() + timeout
    while (done := await _delivered(store)) < at_least:
        if time.monotonic() > deadline:
            if not fatal:
                print(f"(throughput: only {done} of {at_least} deliveries in {timeout:.0f} s)")
                return done
            raise SystemExit(f"only {done} of {at_least} deliveries")
        await asyncio.sleep(0.02)
    return done


def _cpu_s(pid: int) -> float:
    """A process's user + system CPU seconds (Linux /proc; 0 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _scenario(
    name: str, n: int, url: str, backend: str, conc: int, *, drain: bool
) -> dict[str, float]:
    notify = NotificationSettings(concurrency=conc, poll_seconds=0.01)
    out: dict[str, float] = {}
    rule = None if name == "baseline" else name
    async with _fresh(n, url, backend, rule=rule) as (store, names):
        if name == "baseline":
            with _hooks_off():
                await _job(store, names)  # the earlier job (also warms the caches)
                with _counted(out):
                    out["seconds"], out["cpu"] = await _job(store, names)
            return out
        await _job(store, names)  # its n + 1 deliveries drain during the timed job
        if name in ("no_rule", "with_events"):
            spent: dict[str, float] = {}
            before = await _outbox_rows(store)
            with _hooks_timed(spent), _counted(out):
                out["seconds"], out["cpu"] = await _job(store, names)
            out["hooks"] = sum(spent.values())
            out.update({f"hook:{h}": t for h, t in spent.items()})
            out["rows"] = float(await _outbox_rows(store) - before)
            return out
        stop = asyncio.Event()
        if name == "in_process":
            runner = NotificationLoop(store, notify, owner="bench").run
        else:
            child = NotifyProcess(store, Settings(secret_key=KEY, notifications=notify),
                                  owner="bench")  # fmt: skip
            runner = child.run
        running = asyncio.create_task(runner(stop))
        await _until_delivered(store, conc)  # deliveries are under way
        started, before = time.perf_counter(), await _delivered(store)
        cpu = _cpu_s(child.pid) if name == "own_process" and child.pid else 0.0
        out["seconds"], out["cpu"] = await _job(store, names)
        out["sent_during"] = await _delivered(store) - before
        if name == "own_process" and drain:  # throughput: the rest of both jobs' deliveries
            assert child.pid is not None
            count = await _until_delivered(store, 2 * (n + 1), fatal=False) - before
            out["per_s"] = count / (time.perf_counter() - started)
            out["cpu_ms"] = (_cpu_s(child.pid) - cpu) * 1000.0 / count
        stop.set()
        await running
    return out


def _table(results: dict[str, list[dict[str, float]]], key: str, title: str) -> None:
    """Medians, ratios of medians, each scenario's spread, and the per-round ratio to
    the baseline of the same round (its median and min-max): interleaved rounds pair
    each job with a baseline run minutes apart. A median inside the baseline's own
    min-max (its round-to-round spread) is "not measurable here"."""
    base_vs = [r[key] for r in results["baseline"]]
    base, lo, hi = statistics.median(base_vs), min(base_vs), max(base_vs)
    print(f"{'job completion, ' + title:46} {'median':>8} {'ratio':>6} {'min-max':>13} "
          f"{'spread':>6} {'paired ratio (min-max)':>23}  inside baseline spread?")  # fmt: skip
    for name, rs in results.items():
        vs = [r[key] for r in rs]
        med = statistics.median(vs)
        pairs = [r[key] / b[key] for r, b in zip(rs, results["baseline"], strict=True)]
        paired = f"{statistics.median(pairs):.2f} ({min(pairs):.2f}-{max(pairs):.2f})"
        inside = "-" if name == "baseline" else "yes" if lo <= med <= hi else "no"
        print(f"{LABELS[name]:46} {med:8.3f} {med / base:6.2f} {min(vs):6.3f}-{max(vs):<6.3f} "
              f"{(max(vs) - min(vs)) / med * 100:5.0f}% {paired:>23}  {inside}")  # fmt: skip


def _order(r: int) -> list[str]:
    """Round ``r``'s order of the scenarios: a Williams design (rows 0, 1, k-1, 2, k-2, ...
    shifted by ``r``, then their mirror images), so that over 2k rounds (k scenarios)
    every scenario runs right after every other one equally often. A plain rotation ran each
    scenario after the same one in every round (the matching rule always right after
    no-rule, the baseline always right after the delivery process), so whatever one
    scenario leaves behind (the server's dirty buffers, a dropped database, a child
    process) always fell on the same next scenario."""
    k = len(SCENARIOS)
    base = [0]
    for i in range(1, k):
        base.append((i + 1) // 2 if i % 2 else k - i // 2)
    row = [SCENARIOS[(b + r) % k] for b in base]
    return row[::-1] if (r // k) % 2 else row


async def main(n: int, rounds: int, concurrency: int, backend: str) -> None:
    ports: Any = mp.Queue()
    receiver = mp.Process(target=_receiver, args=(ports,), daemon=True)
    receiver.start()
    results: dict[str, list[dict[str, float]]] = {s: [] for s in SCENARIOS}
    loads = [os.getloadavg()[0]]
    try:
        url = f"http://127.0.0.1:{ports.get(timeout=30)}/hook"
        for r in range(rounds):
            for name in _order(r):
                results[name].append(
                    await _scenario(name, n, url, backend, concurrency, drain=r == 0)
                )
            loads.append(os.getloadavg()[0])
    finally:
        receiver.terminate()
        receiver.join()

    def values(name: str, key: str = "seconds") -> list[float]:
        return [r[key] for r in results[name] if key in r]

    print(f"notification fan-out, {backend}, {n} devices (one task.failed each), "
          f"{rounds} round(s), concurrency {concurrency}")  # fmt: skip
    for key, title in (("seconds", "wall s"), ("cpu", "CPU s")):
        _table(results, key, title)
    base = statistics.median(values("baseline"))
    for name in ("no_rule", "with_events"):
        hooks = statistics.median(values(name, "hooks"))
        print(f"{name.replace('_', '-')}: the outbox hooks' own time {hooks * 1000:.2f} ms "
              f"per {n} tasks ({hooks / base * 100:.1f}% of the baseline's median wall time); "
              f"outbox rows written {statistics.median(values(name, 'rows')):.0f}")  # fmt: skip
        each = [f"{h} {statistics.median(vs) * 1000:.2f}"
                for h in HOOKS if (vs := values(name, f"hook:{h}"))]  # fmt: skip
        print("  by hook, median ms: " + ", ".join(each))
    print(f"statements sent during the timed job (all {-(-n // BATCH)} completions): "
          + ", ".join(f"{name} {statistics.median(values(name, 'statements')):.0f}"
                      for name in SCENARIOS[:3]))  # fmt: skip
    for name in SCENARIOS[3:]:
        sent = statistics.median(values(name, "sent_during"))
        print(f"deliveries recorded during the timed job, {name.replace('_', '-')}: {sent:.0f}")
    print("load average (1 min) before and after each round: "
          + " ".join(f"{x:.1f}" for x in loads))  # fmt: skip
    if NotifyProcess is None:
        return
    per_s = statistics.median(values("own_process", "per_s"))
    cpu = statistics.median(values("own_process", "cpu_ms"))
    print(f"deliveries by the delivery process (of {2 * (n + 1)}, once under way): {per_s:.0f} "
          f"per second (outbox -> queue -> signed POST -> recorded), its CPU {cpu:.2f} ms "
          "per delivery")  # fmt: skip


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="200 devices, 1 round (CI)")
    parser.add_argument("--devices", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    args = parser.parse_args()
    if args.smoke:
        args.devices, args.rounds = 200, 1
    asyncio.run(main(args.devices, args.rounds, args.concurrency, args.backend))
    sys.exit(0)

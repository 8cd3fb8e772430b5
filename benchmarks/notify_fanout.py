"""Notification fan-out for a 1,000-device job: one ``task.failed`` event per task.

On a SQLite file, in one process: a job of N tasks (N devices) is claimed and every
task completed as failed, in batches of 100, as workers report them.

- added job time: the job's completion with the outbox hooks switched off (the
  baseline, same process, same data, after one warm-up job) against with them on and
  a matching rule, and against with them on while the delivery loop drains a previous
  job's deliveries (the loop yields to the queue: how long, and how many deliveries
  it recorded meanwhile, are printed);
- fan-out throughput: the N + 1 deliveries (N ``task.failed``, one ``job.finished``)
  from outbox to a loopback HTTP receiver (a separate process, HTTP/1.1 keep-alive),
  signed, through the durable queue: deliveries per second.

    .venv/bin/python benchmarks/notify_fanout.py            # 1,000 devices, 3 rounds
    .venv/bin/python benchmarks/notify_fanout.py --smoke    # 200 devices, 1 round
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

from cryptography.fernet import Fernet

from netfleet.core.models import DeviceSpec
from netfleet.core.settings_integrations import NotificationSettings
from netfleet.jobs.model import JobSpec
from netfleet.store import SqlStore, open_store
from netfleet.store.records import ClaimedTask, TaskOutcome
from netfleet.store.records_integrations import NewRule
from netfleet.store.sql import outbox as notify_sql
from netfleet.worker.notify_loop import NotificationLoop

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


async def _job(store: SqlStore, names: list[str]) -> float:
    """Submit, claim and fail every task of one job; seconds from first completion."""
    spec = JobSpec.model_validate(
        {"targets": {"devices": names}, "commands": ["show version"],
         "options": {"max_attempts": 1}}
    )  # fmt: skip
    await store.jobs.submit(spec)
    tasks: list[ClaimedTask] = []
    while len(tasks) < len(names):
        tasks += await store.claims.claim("bench", 1000, lease_s=600)
    started = time.perf_counter()
    for i in range(0, len(tasks), BATCH):
        chunk = tasks[i : i + BATCH]
        await store.completions.complete_many("bench", [(t.task_id, 1, FAILED) for t in chunk])
    return time.perf_counter() - started


async def _drain(store: SqlStore, loop: NotificationLoop, expected: int) -> tuple[float, float]:
    """Wall and CPU seconds (this process, all threads) to deliver ``expected``."""
    stop = asyncio.Event()
    cpu = time.process_time()
    started = time.perf_counter()
    task = asyncio.create_task(loop.run(stop))
    while loop.delivered < expected:  # noqa: ASYNC110 - an in-process counter, no query
        await asyncio.sleep(0.005)
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu
    stop.set()
    await task
    return elapsed, cpu


@contextlib.contextmanager
def _hooks_off() -> Iterator[None]:
    """The outbox hooks of the completion path switched off (the code before them)."""
    saved: tuple[Callable[..., Any], Callable[..., Any]] = (
        notify_sql.tasks_failed, notify_sql.job_finished)  # fmt: skip
    notify_sql.tasks_failed = lambda *a, **k: None
    notify_sql.job_finished = lambda *a, **k: None
    try:
        yield
    finally:
        notify_sql.tasks_failed, notify_sql.job_finished = saved


@contextlib.asynccontextmanager
async def _fresh(n: int, url: str, *, rule: bool) -> AsyncIterator[tuple[SqlStore, list[str]]]:
    """A new SQLite file with ``n`` devices (and the matching rule): every scenario
    times its job on a store of the same size (one earlier job, untimed)."""
    with tempfile.TemporaryDirectory() as tmp:
        store = await open_store(
            f"sqlite:///{Path(tmp) / 'bench.db'}", secret_key=Fernet.generate_key()
        )
        try:
            specs = [DeviceSpec(f"d{i:05d}", "127.0.0.1", "cisco_ios", port=10_000 + i)
                     for i in range(n)]  # fmt: skip
            await store.devices.import_many(specs)
            if rule:
                await store.notifications.create(
                    NewRule("bench", "webhook", {"events": ["task.failed", "job.failed"]},
                            {"url": url}, "bench-secret-0123456789")
                )  # fmt: skip
            yield store, [s.name for s in specs]
        finally:
            await store.close()


async def _round(n: int, url: str, concurrency: int) -> dict[str, float]:
    settings = NotificationSettings(concurrency=concurrency, poll_seconds=0.01)
    async with _fresh(n, url, rule=False) as (store, names):
        with _hooks_off():
            await _job(store, names)  # the earlier job (also warms the caches)
            baseline = await _job(store, names)
    async with _fresh(n, url, rule=True) as (store, names):
        await _job(store, names)
        with_events = await _job(store, names)
        loop = NotificationLoop(store, settings, owner="bench")
        drain, cpu = await _drain(store, loop, 2 * (n + 1))
    async with _fresh(n, url, rule=True) as (store, names):
        await _job(store, names)  # its n + 1 deliveries drain during the timed job
        loop = NotificationLoop(store, settings, owner="bench")
        stop = asyncio.Event()
        running = asyncio.create_task(loop.run(stop))
        while loop.delivered < concurrency:  # noqa: ASYNC110 - an in-process counter
            await asyncio.sleep(0.005)  # deliveries are under way
        yielded, sent = store.db.activity.yielded_s, loop.delivered
        while_delivering = await _job(store, names)
        sent = loop.delivered - sent
        stop.set()
        await running
        yielded = store.db.activity.yielded_s - yielded  # a wait ends after the job
    return {
        "baseline": baseline,
        "with_events": with_events,
        "while_delivering": while_delivering,
        "sent_during": sent,
        "yielded": yielded,
        "drain": drain,
        "per_s": 2 * (n + 1) / drain,
        "cpu_ms": cpu * 1000.0 / (2 * (n + 1)),
    }


async def main(n: int, rounds: int, concurrency: int) -> None:
    ports: Any = mp.Queue()
    receiver = mp.Process(target=_receiver, args=(ports,), daemon=True)
    receiver.start()
    try:
        url = f"http://127.0.0.1:{ports.get(timeout=30)}/hook"
        results = [await _round(n, url, concurrency) for _ in range(rounds)]
    finally:
        receiver.terminate()
        receiver.join()

    def med(key: str) -> float:
        return statistics.median(r[key] for r in results)

    base = med("baseline")
    print(f"notification fan-out, {n} devices (one task.failed each), {rounds} round(s), "
          f"concurrency {concurrency}, median")  # fmt: skip
    print(f"{'scenario':52} {'seconds':>8} {'ratio':>7}")
    print(f"{'job completion, outbox hooks off (baseline)':52} {base:8.3f} {1.0:7.2f}")
    for key, label in (
        ("with_events", "job completion, hooks on + matching rule"),
        ("while_delivering", "job completion while deliveries drain"),
    ):
        print(f"{label:52} {med(key):8.3f} {med(key) / base:7.2f}")
    print(f"during that job: {med('sent_during'):.0f} deliveries recorded, the loop yielded "
          f"{med('yielded'):.3f} s to the queue")  # fmt: skip
    print(f"deliveries: {2 * (n + 1)} in {med('drain'):.3f} s = {med('per_s'):.0f} per second "
          "(outbox -> queue -> signed POST -> recorded)")  # fmt: skip
    print(f"CPU per delivery (sender process, all threads): {med('cpu_ms'):.2f} ms, "
          f"i.e. about {1000 / med('cpu_ms'):.0f} deliveries per second per free core; "
          f"load average now {os.getloadavg()[0]:.1f}")  # fmt: skip


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="200 devices, 1 round (CI)")
    parser.add_argument("--devices", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    if args.smoke:
        args.devices, args.rounds = 200, 1
    asyncio.run(main(args.devices, args.rounds, args.concurrency))
    sys.exit(0)

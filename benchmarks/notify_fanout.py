"""Notification fan-out for a 1,000-device job: one ``task.failed`` event per task.

On a SQLite file, in one process: a job of N tasks (N devices) is claimed and every
task completed as failed, in batches of 100, as workers report them.

- added job time: the job's completion with the outbox hooks switched off (the
  baseline, same process, same data) against with them on and a matching rule, and
  against with them on while the delivery loop drains a previous job's deliveries;
- fan-out throughput: the N + 1 deliveries (N ``task.failed``, one ``job.finished``)
  from outbox to a loopback HTTP receiver (a separate process, HTTP/1.1 keep-alive),
  signed, through the durable queue: deliveries per second.

    .venv/bin/python benchmarks/notify_fanout.py            # 1,000 devices, 3 rounds
    .venv/bin/python benchmarks/notify_fanout.py --smoke    # 200 devices, 1 round
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet

from netfleet.core.models import DeviceSpec
from netfleet.core.settings_integrations import NotificationSettings
from netfleet.jobs.model import JobSpec
from netfleet.store import SqlStore, open_store
from netfleet.store.records import TaskOutcome
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
    tasks = []
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


async def _round(n: int, url: str, concurrency: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        store = await open_store(
            f"sqlite:///{Path(tmp) / 'bench.db'}", secret_key=Fernet.generate_key()
        )
        try:
            specs = [DeviceSpec(f"d{i:05d}", "127.0.0.1", "cisco_ios", port=10_000 + i)
                     for i in range(n)]  # fmt: skip
            await store.devices.import_many(specs)
            names = [s.name for s in specs]
            # Baseline: the hooks off.
            saved: tuple[Callable[..., Any], Callable[..., Any]] = (
                notify_sql.tasks_failed, notify_sql.job_finished)  # fmt: skip
            notify_sql.tasks_failed = lambda *a, **k: None  # type: ignore[assignment]
            notify_sql.job_finished = lambda *a, **k: None  # type: ignore[assignment]
            try:
                baseline = await _job(store, names)
            finally:
                notify_sql.tasks_failed, notify_sql.job_finished = saved  # type: ignore[assignment]
            await store.notifications.create(
                NewRule("bench", "webhook", {"events": ["task.failed", "job.failed"]},
                        {"url": url}, "bench-secret-0123456789")
            )  # fmt: skip
            with_events = await _job(store, names)
            settings = NotificationSettings(concurrency=concurrency, poll_seconds=0.01)
            loop = NotificationLoop(store, settings, owner="bench")
            drain, cpu = await _drain(store, loop, n + 1)
            # The job's completion while the loop delivers the previous job's events.
            await _job(store, names)
            stop = asyncio.Event()
            running = asyncio.create_task(loop.run(stop))
            while loop.delivered < n + 2:  # noqa: ASYNC110 - an in-process counter
                await asyncio.sleep(0.005)  # the first deliveries are under way
            while_delivering = await _job(store, names)
            stop.set()
            await running
            return {
                "baseline": baseline,
                "with_events": with_events,
                "while_delivering": while_delivering,
                "drain": drain,
                "per_s": (n + 1) / drain,
                "cpu_ms": cpu * 1000.0 / (n + 1),
            }
        finally:
            await store.close()


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
    print(f"deliveries: {n + 1} in {med('drain'):.3f} s = {med('per_s'):.0f} per second "
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

"""CPU per device of the worker's backup path, in this process (less noisy than wall time
on a loaded machine): a simulated IOS device's 50 KB running config, before and after a
one-line change (so its header's change time differs too).

1. The read thread's part (``BackupRunner._prepare``: check, normalise, digest; then for
   a changed config the diff and the blobs), best and median of 9 repeats.
2. ``store.configs.record`` on SQLite for ``--devices`` devices, 50 at a time: CPU
   seconds of the process (every thread) per device, first versions, no change, changed.
   Then the same through ``BackupRunner.record`` (the worker's path: a text identical
   to the one last recorded is not checked or normalised again), where it exists.
   ``--threads``: that CPU split by thread (the loop's, the read threads', the store
   thread's: ``time.thread_time`` around each transaction of ``Database``).

    .venv/bin/python benchmarks/backup_cpu.py
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import functools
import statistics
import tempfile
import threading
import time
import timeit
from pathlib import Path

from cryptography.fernet import Fernet

from netfleet.configs.compress import pack_full
from netfleet.core.settings import BackupSettings, DatabaseSettings, Settings
from netfleet.store import SqlStore, open_store
from netfleet.store.database import Database
from netfleet.store.facades.configs_record import prepare
from netfleet.store.sql.configs import Head
from netfleet.worker.backup import BackupRunner
from netfleet_sim.platforms import get_platform as sim_platform
from netfleet_sim.platforms.ios_like.show import show_running


def texts(changes: int) -> list[str]:
    """The running config of a fresh 50 KB device, then after each of ``changes`` lines."""
    platform = sim_platform("cisco_ios")
    engine = platform.engine(
        platform.new_state("r1", index=1, config_size=50_000),
        username="admin",
        enable_secret="secret",
    )
    for line in ("enable", "secret", "configure terminal"):
        engine.execute(line)
    out = [show_running(engine.session, ())]  # type: ignore[attr-defined]
    for i in range(changes):
        engine.execute(f"ntp server 192.0.2.{77 + i}")
        time.sleep(1.01)  # the header's time of the last change moves
        out.append(show_running(engine.session, ()))  # type: ignore[attr-defined]
    return out


def read_side(runner: BackupRunner, old: str, new: str) -> None:
    head = Head(1, 1, "", pack_full(old), 3)

    def unchanged() -> None:
        runner._prepare(old, "r1", "cisco_ios", [])

    def changed() -> None:
        prepare(head, runner._prepare(new, "r1", "cisco_ios", []), "cisco_ios", "r1")

    for label, fn in (("no change", unchanged), ("one line changed", changed)):
        runs = sorted(timeit.repeat(fn, number=100, repeat=9, timer=time.process_time))
        print(f"  {label:<18} best {runs[0] * 10:.3f} ms, median {runs[4] * 10:.3f} ms")


THREADS: collections.defaultdict[str, float] = collections.defaultdict(float)
"""CPU seconds of the store's transactions by thread kind (``--threads``)."""


def count_threads() -> None:
    """Add each ``Database`` transaction's thread CPU to ``THREADS``."""
    transaction = Database._transaction
    lock = threading.Lock()

    def timed(self: Database, *args: object, **kwargs: object) -> object:
        t0 = time.thread_time()
        try:
            return transaction(self, *args, **kwargs)  # type: ignore[arg-type]
        finally:
            took = time.thread_time() - t0
            with lock:
                THREADS[threading.current_thread().name.split("_")[0]] += took

    Database._transaction = timed  # type: ignore[assignment,method-assign]


async def record_all(
    store: SqlStore, runner: BackupRunner, text: str, devices: int, *, worker: bool = False
) -> float:
    """CPU milliseconds of this process per device to record ``text`` for every device
    (``worker``: through ``BackupRunner.record``)."""
    gate = asyncio.Semaphore(50)

    async def one(name: str) -> None:
        async with gate:
            if worker:
                await runner.record(text, name, "cisco_ios", [], job_id=1)
                return
            config = functools.partial(runner._prepare, text, name, "cisco_ios", [])
            await store.configs.record(name, config, platform="cisco_ios", job_id=1)

    THREADS.clear()
    c0, t0 = time.process_time(), time.thread_time()
    await asyncio.gather(*(one(f"dev-{i:05d}") for i in range(devices)))
    THREADS["loop"] += time.thread_time() - t0
    return (time.process_time() - c0) / devices * 1000


def split(devices: int) -> str:
    """``THREADS`` per device, in milliseconds."""
    kinds = ("loop", "netfleet-read", "netfleet-store")
    return ", ".join(
        f"{k.removeprefix('netfleet-')} {THREADS[k] / devices * 1000:.2f}" for k in kinds
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3, help="changed configs recorded")
    parser.add_argument("--smoke", action="store_true", help="20 devices, 1 round (CI)")
    parser.add_argument("--threads", action="store_true", help="CPU by thread too")
    args = parser.parse_args()
    if args.threads:
        count_threads()
    if args.smoke:
        args.devices, args.rounds = 20, 1
    versions = texts(args.rounds)
    paths = ["store.configs.record"]
    if hasattr(BackupRunner, "record"):
        paths.append("BackupRunner.record")
    for path in paths:
        worker = path == "BackupRunner.record"
        with tempfile.TemporaryDirectory() as name:
            url = f"sqlite:///{Path(name) / 'cpu.db'}"
            settings = Settings(database=DatabaseSettings(url=url), backup=BackupSettings())
            store = await open_store(settings=settings, secret_key=Fernet.generate_key())
            runner = BackupRunner(store, settings)
            if not worker:
                print("read thread's part per device (CPU):")
                read_side(runner, versions[0], versions[1])
            old = versions[0]
            first = await record_all(store, runner, old, args.devices, worker=worker)
            by_thread = {"first version": [split(args.devices)]}
            same, changed = [], []
            for new in versions[1:]:
                same.append(await record_all(store, runner, old, args.devices, worker=worker))
                by_thread.setdefault("no change", []).append(split(args.devices))
                changed.append(await record_all(store, runner, new, args.devices, worker=worker))
                by_thread.setdefault("one line changed", []).append(split(args.devices))
                old = new
            await store.close()
        print(f"{path}, {args.devices} devices, CPU of the process per device:")
        print(f"  first version {first:.2f} ms")
        for label, values in (("no change", same), ("one line changed", changed)):
            shown = ", ".join(f"{v:.2f}" for v in values)
            print(f"  {label:<18} {shown} ms (median {statistics.median(values):.2f})")
        if args.threads:
            print("  by thread (ms per device):")
            for label, rows in by_thread.items():
                print(f"    {label:<18} " + "; ".join(rows))


if __name__ == "__main__":
    asyncio.run(main())

"""Test harness: worker subprocesses, databases, fleets and polling helpers."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import signal
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from cryptography.fernet import Fernet

from netfleet.core.inventory import load_inventory
from netfleet.core.models import DeviceSpec
from netfleet.core.settings import Settings
from netfleet.jobs.model import JobSpec
from netfleet.store import SqlStore, open_store
from netfleet.store.records import JobRecord
from tests.support.patience import PATIENCE

SECRET_KEY = Fernet.generate_key().decode()

FAST_WORKER_ENV = {
    "NETFLEET_WORKER__LEASE_SECONDS": "1.5",
    "NETFLEET_WORKER__HEARTBEAT_SECONDS": "0.3",
    "NETFLEET_WORKER__POLL_SECONDS": "0.1",
    "NETFLEET_WORKER__DRAIN_TIMEOUT_SECONDS": "5",
    "NETFLEET_WORKER__CONCURRENCY": "4",
}

STEADY_LEASE_ENV = {"NETFLEET_WORKER__LEASE_SECONDS": "60"}
"""For tests that need no lease to expire: a 1.5 s lease is lost on a loaded machine
(a worker starved of CPU for longer), and a lost lease frees a device's slot while
the stalled worker's session is still open: a limit or exclusivity check then
measures the machine's load, not netfleet. Leases stay short where expiry is tested."""


class WorkerProcess:
    """One ``netfleet worker`` subprocess; its log goes to a file."""

    def __init__(
        self, db_url: str, tmp: Path, name: str, env: dict[str, str], scheduler: bool = False
    ) -> None:
        self.id = f"{name}-{uuid.uuid4().hex[:6]}"
        self.log_path = tmp / f"{self.id}.log"
        full_env = {**os.environ, **env}
        with self.log_path.open("wb") as log:
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-c",
                    "from netfleet.cli.app import main; main()",
                    "worker",
                    "--db",
                    db_url,
                    "--id",
                    self.id,
                    *([] if scheduler else ["--no-scheduler"]),
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=full_env,
            )

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> None:
        if self.alive:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def signal(self, sig: int) -> None:
        if self.alive:
            self.proc.send_signal(sig)

    async def wait_exit(self, timeout: float) -> int:
        """The exit code; kills the process (and fails) if it outlives ``timeout`` (times
        ``PATIENCE``)."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.to_thread(self.proc.wait), timeout * PATIENCE)
        if self.alive:
            self.kill()
            raise AssertionError(f"worker {self.id} did not exit:\n{self.log()[-3000:]}")
        return int(self.proc.returncode)

    async def terminate(self, timeout: float = 20) -> None:
        """SIGTERM (drain), then expect a clean exit (code 0) within ``timeout``."""
        self.signal(signal.SIGTERM)
        code = await self.wait_exit(timeout)
        assert code == 0, f"worker {self.id} exited with {code}:\n{self.log()[-2000:]}"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


class Fleet:
    """Worker processes sharing one database; everything is killed on ``close``."""

    def __init__(self, db_url: str, tmp: Path, env: dict[str, str] | None = None) -> None:
        self.db_url = db_url
        self.tmp = tmp
        self.env = {
            "NETFLEET_SECRET_KEY": SECRET_KEY,
            "NETFLEET_CONFIG": str(tmp / "absent.toml"),
            "NETFLEET_CONNECT__KNOWN_HOSTS": str(tmp / "known_hosts"),
            "NETFLEET_LOG__FORMAT": "json",
            **FAST_WORKER_ENV,
            **(env or {}),
        }
        self.workers: list[WorkerProcess] = []

    def start(self, name: str = "w", *, scheduler: bool = False, **env: str) -> WorkerProcess:
        worker = WorkerProcess(self.db_url, self.tmp, name, {**self.env, **env}, scheduler)
        self.workers.append(worker)
        return worker

    def live(self) -> list[WorkerProcess]:
        return [w for w in self.workers if w.alive]

    def close(self) -> None:
        for worker in self.workers:
            worker.kill()


def store_settings() -> Settings:
    return Settings(secret_key=SECRET_KEY)


async def open_test_store(url: str) -> SqlStore:
    return await open_store(url, settings=store_settings())


async def import_sim_devices(
    store: SqlStore, inventory: Path, *, max_sessions: int = 2
) -> list[DeviceSpec]:
    """Store the simulator's devices (written to ``inventory``) with ``max_sessions``."""
    specs = [
        dataclasses.replace(spec, max_sessions=max_sessions)
        for spec in load_inventory(inventory).devices
    ]
    report = await store.devices.import_many(specs)
    assert report.ok, report
    return specs


async def submit(
    store: SqlStore,
    devices: Iterable[str],
    *,
    commands: list[str] | None = None,
    config: list[str] | None = None,
    **options: Any,
) -> JobRecord:
    spec = JobSpec.model_validate(
        {
            "targets": {"devices": list(devices)},
            "commands": commands or [],
            "config": config or [],
            "options": options,
        }
    )
    return await store.jobs.submit(spec)


async def eventually(
    check: Callable[[], Awaitable[bool]], *, timeout: float, what: str, interval: float = 0.05
) -> None:
    """Poll ``check`` until true; fail naming ``what`` after ``timeout`` seconds (times
    ``PATIENCE``)."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout * PATIENCE
    while loop.time() < end:
        if await check():
            return
        await asyncio.sleep(interval)
    raise AssertionError(f"timed out waiting for: {what}")


def _sqlite_writable(path: str) -> bool:
    """Can a write transaction start now (no other process holds the write lock)?"""
    conn = sqlite3.connect(path, timeout=0.2)
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.rollback()
        return True
    except sqlite3.OperationalError:
        return False
    finally:
        conn.close()


async def freeze(worker: WorkerProcess, db_url: str, timeout: float = 30) -> None:
    """SIGSTOP ``worker`` at a moment it holds no SQLite write lock. A worker stopped
    inside a write transaction keeps every other process from writing (SQLite has one
    writer) until it runs again; a test that freezes a worker for good wants it stopped
    between its transactions. On PostgreSQL, a plain SIGSTOP."""
    if not db_url.startswith("sqlite"):
        worker.signal(signal.SIGSTOP)
        return
    path = sa.engine.make_url(db_url).database or ""

    async def stopped_outside_a_write() -> bool:
        worker.signal(signal.SIGSTOP)
        if await asyncio.to_thread(_sqlite_writable, path):
            return True
        worker.signal(signal.SIGCONT)
        return False

    await eventually(stopped_outside_a_write, timeout=timeout, what="worker stopped between writes")


async def running(store: SqlStore, *workers: WorkerProcess, timeout: float = 60) -> None:
    """Wait until each of ``workers`` has registered and runs (its signal handlers are
    in place: a SIGTERM before that, while Python still imports, kills it)."""

    async def check() -> bool:
        states = {w.id: w.state for w in await store.workers.list()}
        return all(states.get(w.id) == "running" for w in workers)

    await eventually(check, timeout=timeout, what=f"workers {[w.id for w in workers]} running")


def task_rows(db_url: str) -> list[dict[str, Any]]:
    """Every task's state, owner and attempt, read straight from the database."""
    engine = sa.create_engine(_sync_url(db_url), poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.text("SELECT id, job_id, state, lease_owner, attempt, error FROM tasks")
            ).mappings()
            return [dict(r) for r in rows]
    finally:
        engine.dispose()


async def task_rows_async(db_url: str) -> list[dict[str, Any]]:
    return await asyncio.to_thread(task_rows, db_url)


def _sync_url(url: str) -> str:
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def logged(worker: WorkerProcess, text: str) -> Callable[[], Awaitable[bool]]:
    """A check for ``eventually``: ``text`` appears in the worker's log."""

    async def check() -> bool:
        return text in worker.log()

    return check


def sessions_closed(sim: Any) -> Callable[[], Awaitable[bool]]:
    """A check for ``eventually``: no simulated device has a session open."""

    async def check() -> bool:
        return all(d.stats.sessions_open == 0 for d in sim.devices)

    return check

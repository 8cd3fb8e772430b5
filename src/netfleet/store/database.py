"""``Database``: the plumbing under the store's façades — engine, store thread(s),
transactions, error translation, the clock, migrations and wake-ups (NOTIFY on
PostgreSQL)."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import threading
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy import exc
from sqlalchemy.engine import Connection

from netfleet.core.errors import DatabaseUnavailable, NetfleetError, StoreError, ValidationError
from netfleet.core.models import DeviceSpec
from netfleet.jobs.gates import ChangePolicy
from netfleet.store.activity import QueueActivity
from netfleet.store.crypto import SecretBox
from netfleet.store.engine import WRITE_KEY, create_engine, mask_url, parse_url, translate
from netfleet.store.sql import devices as devices_sql
from netfleet.store.sql import gates as gates_sql
from netfleet.store.sql import jobs as jobs_sql
from netfleet.store.sql import statements

T = TypeVar("T")
READ_THREADS = 2
"""Threads (and connections) of ``Database.read``."""
_RETRY_SQLSTATES = ("40P01", "40001")  # deadlock, serialization failure: safe to re-run
_MIGRATIONS = Path(__file__).with_name("migrations")


class Database:
    """Runs each operation as one short transaction on the store's own thread(s).

    The façades of ``SqlStore`` share one ``Database``: they hand ``run`` a function
    of a ``Connection`` (from ``netfleet.store.sql``), and read the clock inside it
    with ``clock(conn)``. Tests may ``run`` their own read of the tables too.
    """

    def __init__(
        self, url: str, *, secret_key: str | bytes, pg_threads: int = 4, spec_cache: int = 2048
    ) -> None:
        parse_url(url)  # ConfigurationError early
        self.url = mask_url(url)
        self.box = SecretBox(secret_key)
        self._engine, self.dialect = create_engine(
            url, threads=1 if url.startswith("sqlite") else pg_threads
        )
        self._postgres = self.dialect == "postgresql"
        threads = pg_threads if self._postgres else 1
        self._executor = ThreadPoolExecutor(threads, thread_name_prefix="netfleet-store")
        self._url = url
        self._secret_key = secret_key
        self._reader: tuple[sa.Engine, ThreadPoolExecutor] | None = None
        self._reader_lock = threading.Lock()
        self.specs = jobs_sql.SpecCache(spec_cache)
        """Parsed job specs by job id (specs never change after submit)."""
        self._devices: dict[int, tuple[int, DeviceSpec]] = {}
        self._clock_offset = 0.0
        self._clock_checked = 0.0
        self._clock_lock = threading.Lock()
        self._wakeups: set[asyncio.Queue[None]] = set()
        self._closed = False
        self.activity = QueueActivity()
        """This process's queue work in flight, for background loops to yield to."""
        self.change_policy = ChangePolicy()
        """Approvals and the window clock, as submit applies them (``[changes]``)."""

    def __repr__(self) -> str:
        return f"Database({self.url!r})"

    def reopen_args(self) -> tuple[str, str]:
        """The unmasked URL and the secret key, for a child process to open this same
        store (hand them over a pipe, never in arguments or the environment)."""
        key = self._secret_key
        return self._url, key.decode() if isinstance(key, bytes) else key

    @property
    def postgres(self) -> bool:
        return self._postgres

    # --- plumbing -------------------------------------------------------------

    def clock(self, conn: Connection) -> float:
        """Database time: the process clock plus the database clock's offset (PostgreSQL)."""
        local = time.time()
        if self._postgres and local - self._clock_checked > 30.0:
            with self._clock_lock:
                db = conn.execute(sa.text("SELECT extract(epoch from clock_timestamp())")).scalar()
                after = time.time()
                self._clock_offset = float(db or local) - (local + after) / 2
                self._clock_checked = after
        return local + self._clock_offset

    def _transaction(
        self, what: str, fn: Callable[[Connection], T], write: bool, engine: sa.Engine | None = None
    ) -> T:
        for attempt in range(4):
            try:
                with (engine or self._engine).connect() as conn:
                    conn.info[WRITE_KEY] = write
                    conn.info[gates_sql.POLICY_KEY] = self.change_policy
                    with conn.begin():
                        return fn(conn)
            except exc.DBAPIError as error:
                sqlstate = getattr(error.orig, "sqlstate", None)
                if sqlstate in _RETRY_SQLSTATES and attempt < 3:
                    time.sleep(0.005 * (attempt + 1))
                    continue
                raise translate(error, what) from None
            except NetfleetError:
                raise
            except OverflowError:
                raise ValidationError(f"{what}: a number is out of range") from None
            except (exc.SQLAlchemyError, OSError) as error:
                raise translate(error, what) from None
        raise StoreError(f"{what}: gave up after repeated deadlocks")  # pragma: no cover

    async def run(
        self,
        fn: Callable[[Connection], T],
        *,
        what: str = "store operation",
        write: bool = True,
        idempotent: bool = False,
        queue: bool = False,
    ) -> T:
        """``fn(conn)`` in one transaction (``write=False``: a read on SQLite, no lock),
        with database errors translated; ``idempotent`` re-runs it once after a dropped
        connection. ``queue``: the queue's own work (claims, completions), which
        background loops yield to (``activity``)."""
        if self._closed:
            raise StoreError(f"{what}: the store is closed")
        loop = asyncio.get_running_loop()
        if queue:
            self.activity.begin()
        try:
            return await loop.run_in_executor(self._executor, self._transaction, what, fn, write)
        except DatabaseUnavailable:
            if not idempotent:
                raise
            return await loop.run_in_executor(self._executor, self._transaction, what, fn, write)
        finally:
            if queue:
                self.activity.end()

    async def read(
        self, fn: Callable[[Connection], T], *, what: str = "store read", idempotent: bool = True
    ) -> T:
        """``fn(conn)`` in a read-only transaction on the read threads, with their own
        connections: a long read (and the CPU work in ``fn``, such as diffs) neither
        waits behind the store thread's writes nor holds them up (SQLite readers in WAL
        mode see the last commit without taking the write lock)."""
        if self._closed:
            raise StoreError(f"{what}: the store is closed")
        engine, executor = self._read_side()
        loop = asyncio.get_running_loop()
        call = functools.partial(self._transaction, what, fn, False, engine)
        try:
            return await loop.run_in_executor(executor, call)
        except DatabaseUnavailable:
            if not idempotent:
                raise
            return await loop.run_in_executor(executor, call)

    def _read_side(self) -> tuple[sa.Engine, ThreadPoolExecutor]:
        with self._reader_lock:
            if self._reader is None:
                engine, _ = create_engine(self._url, threads=READ_THREADS)
                executor = ThreadPoolExecutor(READ_THREADS, thread_name_prefix="netfleet-read")
                self._reader = (engine, executor)
            return self._reader

    def wake(self) -> None:
        """Wake this process's ``listen``-ers (new work may be ready)."""
        for queue in list(self._wakeups):
            with contextlib.suppress(asyncio.QueueFull):
                queue.put_nowait(None)

    # --- lifecycle ------------------------------------------------------------

    async def migrate(self) -> None:
        def upgrade(conn: Connection) -> None:
            if self._postgres:
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(7218463)"))
            cfg = Config()
            cfg.set_main_option("script_location", str(_MIGRATIONS))
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")

        await self.run(upgrade, what="migrate the database")

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._executor, self._engine.dispose)
        self._executor.shutdown(wait=False)
        with self._reader_lock:
            reader, self._reader = self._reader, None
        if reader is not None:
            await loop.run_in_executor(reader[1], reader[0].dispose)
            reader[1].shutdown(wait=False)

    async def now(self) -> float:
        return await self.run(self.clock, what="read the clock", write=False, idempotent=True)

    def load_device(self, conn: Connection, device_id: int, generation: int) -> DeviceSpec:
        """The device with decrypted credentials, cached while its generation holds."""
        cached = self._devices.get(device_id)
        if cached is not None and cached[0] == generation:
            return cached[1]
        record = devices_sql.get_device_by_id(conn, self.box, device_id)
        if len(self._devices) > 50_000:
            self._devices.clear()
        self._devices[device_id] = (record.generation, record.spec)
        return record.spec

    async def listen(self) -> AsyncIterator[None]:
        if self._postgres:
            # Close the inner generator (and its connection) when this one is closed,
            # not later from the garbage collector, perhaps after the loop is gone.
            async with contextlib.aclosing(self._pg_listen()) as wakeups:
                async for _ in wakeups:
                    yield None
            return
        queue: asyncio.Queue[None] = asyncio.Queue(maxsize=1)
        self._wakeups.add(queue)
        try:
            while True:
                await queue.get()
                yield None
        finally:
            self._wakeups.discard(queue)

    async def _pg_listen(self) -> AsyncGenerator[None]:
        import psycopg

        url = self._engine.url.set(drivername="postgresql")
        conninfo = url.render_as_string(hide_password=False)
        delay = 0.5
        while not self._closed:
            try:
                async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as conn:
                    await conn.execute(f"LISTEN {statements.NOTIFY_CHANNEL}")
                    delay = 0.5
                    yield None  # (re)connected: work may have arrived meanwhile
                    async for _ in conn.notifies():
                        yield None
            except psycopg.Error:
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)

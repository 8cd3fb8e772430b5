"""``SqlStore``: the ``Store`` interface over SQLite or PostgreSQL.

Each operation is one short transaction of synchronous SQLAlchemy Core, run on
the store's own thread(s): one writer thread for SQLite, a small pool of
connections for PostgreSQL. Database errors become netfleet errors here.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import AsyncIterator, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy import exc
from sqlalchemy.engine import Connection

from netfleet.core.errors import DatabaseUnavailable, LeaseLost, NetfleetError, StoreError
from netfleet.core.models import Credential, DeviceSpec
from netfleet.core.settings import Settings
from netfleet.jobs.model import JobSpec, parse_job_spec
from netfleet.store import claim_sql, devices_sql, jobs_sql, queue_sql, statements, workers_sql
from netfleet.store.crypto import SecretBox, load_key
from netfleet.store.engine import WRITE_KEY, create_engine, mask_url, parse_url, translate
from netfleet.store.interface import (
    ClaimedTask,
    Completion,
    CredentialRecord,
    DeviceRecord,
    HeartbeatResult,
    ImportReport,
    JobFilter,
    JobRecord,
    NewEvent,
    Page,
    ReapResult,
    TaskEvent,
    TaskOutcome,
    WorkerRecord,
    WorkerState,
)
from netfleet.store.schema import task_events, tasks

T = TypeVar("T")
_RETRY_SQLSTATES = ("40P01", "40001")  # deadlock, serialization failure: safe to re-run
_MIGRATIONS = Path(__file__).with_name("migrations")


class SqlStore:
    """The durable store. Use ``await open_store(url)``, or construct then ``await migrate()``."""

    def __init__(
        self, url: str, *, secret_key: str | bytes, pg_threads: int = 4, spec_cache: int = 2048
    ) -> None:
        parse_url(url)  # ConfigurationError early
        self.url = mask_url(url)
        self._box = SecretBox(secret_key)
        self._engine, self.dialect = create_engine(
            url, threads=1 if url.startswith("sqlite") else pg_threads
        )
        self._postgres = self.dialect == "postgresql"
        threads = pg_threads if self._postgres else 1
        self._executor = ThreadPoolExecutor(threads, thread_name_prefix="netfleet-store")
        self._specs = jobs_sql.SpecCache(spec_cache)
        self._devices: dict[int, tuple[int, DeviceSpec]] = {}
        self._clock_offset = 0.0
        self._clock_checked = 0.0
        self._clock_lock = threading.Lock()
        self._wakeups: set[asyncio.Queue[None]] = set()
        self._closed = False

    def __repr__(self) -> str:
        return f"SqlStore({self.url!r})"

    # --- plumbing -------------------------------------------------------------

    def _now(self, conn: Connection) -> float:
        """Database time: the process clock plus the database clock's offset (PostgreSQL)."""
        local = time.time()
        if self._postgres and local - self._clock_checked > 30.0:
            with self._clock_lock:
                db = conn.execute(sa.text("SELECT extract(epoch from clock_timestamp())")).scalar()
                after = time.time()
                self._clock_offset = float(db or local) - (local + after) / 2
                self._clock_checked = after
        return local + self._clock_offset

    def _transaction(self, what: str, fn: Callable[[Connection], T], write: bool) -> T:
        for attempt in range(4):
            try:
                with self._engine.connect() as conn:
                    conn.info[WRITE_KEY] = write
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
            except (exc.SQLAlchemyError, OSError) as error:
                raise translate(error, what) from None
        raise StoreError(f"{what}: gave up after repeated deadlocks")  # pragma: no cover

    async def _run(
        self,
        what: str,
        fn: Callable[[Connection], T],
        *,
        write: bool = True,
        idempotent: bool = False,
    ) -> T:
        if self._closed:
            raise StoreError(f"{what}: the store is closed")
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._executor, self._transaction, what, fn, write)
        except DatabaseUnavailable:
            if not idempotent:
                raise
            return await loop.run_in_executor(self._executor, self._transaction, what, fn, write)

    async def run_sync(self, fn: Callable[[Any], T], *, write: bool = True) -> T:
        return await self._run("store operation", fn, write=write)

    def _wake(self) -> None:
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

        await self._run("migrate the database", upgrade)

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._executor, self._engine.dispose)
        self._executor.shutdown(wait=False)

    async def now(self) -> float:
        return await self._run("read the clock", self._now, write=False, idempotent=True)

    # --- inventory ------------------------------------------------------------

    async def upsert_credential(self, credential: Credential) -> CredentialRecord:
        def op(conn: Connection) -> CredentialRecord:
            cid = devices_sql.upsert_credential(conn, self._box, credential, self._now(conn))
            return next(c for c in devices_sql.list_credentials(conn) if c.id == cid)

        return await self._run(f"store credential {credential.name!r}", op)

    async def list_credentials(self) -> list[CredentialRecord]:
        return await self._run(
            "list credentials", devices_sql.list_credentials, write=False, idempotent=True
        )

    async def delete_credential(self, name: str) -> None:
        await self._run(
            f"delete credential {name!r}", lambda c: devices_sql.delete_credential(c, name)
        )

    async def upsert_device(self, spec: DeviceSpec) -> DeviceRecord:
        def op(conn: Connection) -> DeviceRecord:
            devices_sql.upsert_device(conn, self._box, spec, self._now(conn))
            return devices_sql.get_device(conn, self._box, spec.name, with_secrets=False)

        return await self._run(f"store device {spec.name!r}", op)

    async def import_devices(self, specs: Sequence[DeviceSpec]) -> ImportReport:
        rows = []
        for start in range(0, len(specs), 500):
            chunk = specs[start : start + 500]
            rows += await self._run(
                "import devices",
                lambda c, chunk=chunk: devices_sql.import_devices(  # type: ignore[misc]
                    c, self._box, chunk, self._now(c)
                ),
            )
        return ImportReport(rows=tuple(rows))

    async def get_device(self, name: str, *, with_secrets: bool = False) -> DeviceRecord:
        return await self._run(
            f"read device {name!r}",
            lambda c: devices_sql.get_device(c, self._box, name, with_secrets=with_secrets),
            write=False,
            idempotent=True,
        )

    async def list_devices(
        self,
        *,
        groups: Sequence[str] = (),
        tags: Sequence[str] = (),
        platform: str | None = None,
        name_glob: str | None = None,
        limit: int = 100,
        cursor: int | None = None,
    ) -> Page:
        return await self._run(
            "list devices",
            lambda c: devices_sql.list_devices(
                c,
                groups=groups,
                tags=tags,
                platform=platform,
                name_glob=name_glob,
                limit=max(1, min(limit, 1000)),
                cursor=cursor,
            ),
            write=False,
            idempotent=True,
        )

    async def delete_device(self, name: str) -> None:
        await self._run(f"delete device {name!r}", lambda c: devices_sql.delete_device(c, name))

    def _load_device(self, conn: Connection, device_id: int, generation: int) -> DeviceSpec:
        cached = self._devices.get(device_id)
        if cached is not None and cached[0] == generation:
            return cached[1]
        record = devices_sql.get_device_by_id(conn, self._box, device_id)
        if len(self._devices) > 50_000:
            self._devices.clear()
        self._devices[device_id] = (record.generation, record.spec)
        return record.spec

    # --- jobs -----------------------------------------------------------------

    async def submit(
        self,
        spec: JobSpec,
        *,
        schedule_id: int | None = None,
        fire_time: float | None = None,
    ) -> JobRecord:
        spec = parse_job_spec(spec)

        def op(conn: Connection) -> JobRecord:
            job_id, _created = jobs_sql.insert_job(
                conn,
                spec,
                self._now(conn),
                schedule_id=schedule_id,
                fire_time=fire_time,
                notify=self._postgres,
            )
            return jobs_sql.get_job(conn, self._specs, job_id, with_tasks=False, with_outputs=False)

        job = await self._run("submit a job", op)
        self._wake()
        return job

    async def get_job(self, job_id: int, *, tasks: bool = True, outputs: bool = True) -> JobRecord:
        return await self._run(
            f"read job {job_id}",
            lambda c: jobs_sql.get_job(
                c, self._specs, job_id, with_tasks=tasks, with_outputs=outputs
            ),
            write=False,
            idempotent=True,
        )

    async def list_jobs(
        self, filt: JobFilter | None = None, *, limit: int = 50, cursor: int | None = None
    ) -> Page:
        return await self._run(
            "list jobs",
            lambda c: jobs_sql.list_jobs(
                c, self._specs, filt or JobFilter(), max(1, min(limit, 1000)), cursor
            ),
            write=False,
            idempotent=True,
        )

    async def cancel(self, job_id: int) -> JobRecord:
        def op(conn: Connection) -> JobRecord:
            jobs_sql.cancel_job(conn, job_id, self._now(conn))
            return jobs_sql.get_job(conn, self._specs, job_id, with_tasks=True, with_outputs=False)

        return await self._run(f"cancel job {job_id}", op)

    async def events(self, job_id: int, *, after_id: int = 0, limit: int = 1000) -> list[TaskEvent]:
        rows = await self._run(
            f"read events of job {job_id}",
            lambda c: jobs_sql.job_events(c, job_id, after_id, max(1, min(limit, 10_000))),
            write=False,
            idempotent=True,
        )
        return [
            TaskEvent(
                id=r.id,
                job_id=r.job_id,
                task_id=r.task_id,
                at=r.at,
                kind=r.kind,
                message=r.message,
                data=dict(r.data or {}),
            )
            for r in rows
        ]

    async def delete_finished_jobs(self, older_than_s: float) -> int:
        total = 0
        while True:
            n = await self._run(
                "delete old jobs",
                lambda c: jobs_sql.delete_finished_jobs(c, self._now(c) - older_than_s),
            )
            total += n
            if n == 0:
                return total

    # --- the queue ------------------------------------------------------------

    async def claim(
        self,
        worker_id: str,
        limit: int,
        *,
        lease_s: float,
        warm_devices: frozenset[int] | set[int] = frozenset(),
    ) -> list[ClaimedTask]:
        if limit <= 0:
            return []
        return await self._run(
            "claim tasks",
            lambda c: claim_sql.claim(
                c,
                postgres=self._postgres,
                worker_id=worker_id,
                limit=min(limit, 1000),
                lease_s=lease_s,
                warm=warm_devices,
                now=self._now(c),
                specs=self._specs,
                load_device=self._load_device,
            ),
        )

    async def heartbeat(
        self, worker_id: str, task_ids: Sequence[int], *, lease_s: float
    ) -> HeartbeatResult:
        return await self._run(
            "renew leases",
            lambda c: claim_sql.heartbeat(c, worker_id, list(task_ids), lease_s, self._now(c)),
            idempotent=True,
        )

    async def complete(
        self, task_id: int, worker_id: str, attempt: int, outcome: TaskOutcome
    ) -> Completion:
        result = (await self.complete_many(worker_id, [(task_id, attempt, outcome)]))[0]
        if result is None:
            raise LeaseLost(
                f"task {task_id} attempt {attempt}: lease lost; worker {worker_id} no longer "
                "holds it (expired, reaped or cancelled); its result was not recorded"
            )
        return result

    async def complete_many(
        self, worker_id: str, items: Sequence[tuple[int, int, TaskOutcome]]
    ) -> list[Completion | None]:
        """Batch form of ``complete``: ``(task_id, attempt, outcome)`` each; ``None`` where
        the worker was fenced out (``complete`` raises ``LeaseLost`` instead)."""
        if not items:
            return []
        results = await self._run(
            "complete tasks",
            lambda c: queue_sql.complete_many(
                c,
                postgres=self._postgres,
                worker_id=worker_id,
                items=items,
                now=self._now(c),
                specs=self._specs,
            ),
        )
        return results

    async def record_events(self, worker_id: str, events: Sequence[NewEvent]) -> None:
        if not events:
            return

        def op(conn: Connection) -> None:
            ids = sorted({e.task_id for e in events})
            jobs_of = {
                r.id: r.job_id
                for r in conn.execute(
                    sa.select(tasks.c.id, tasks.c.job_id).where(tasks.c.id.in_(ids))
                )
            }
            now = self._now(conn)
            rows = [
                {
                    "job_id": jobs_of[e.task_id],
                    "task_id": e.task_id,
                    "at": now,
                    "kind": e.kind[:32],
                    "message": e.message,
                    "data": {**e.data, "worker": worker_id},
                }
                for e in events
                if e.task_id in jobs_of
            ]
            if rows:
                conn.execute(task_events.insert(), rows)

        await self._run("record events", op)

    async def reap(self) -> ReapResult:
        result = await self._run(
            "reap expired leases",
            lambda c: queue_sql.reap(c, postgres=self._postgres, now=self._now(c)),
        )
        if result.requeued:
            self._wake()
        return result

    async def expire_deadlines(self, grace_s: float = 30.0) -> list[int]:
        return await self._run(
            "expire task deadlines",
            lambda c: queue_sql.expire_deadlines(
                c, postgres=self._postgres, now=self._now(c), grace_s=grace_s
            ),
        )

    async def listen(self) -> AsyncIterator[None]:
        if self._postgres:
            async for _ in self._pg_listen():
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

    async def _pg_listen(self) -> AsyncIterator[None]:
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

    # --- workers --------------------------------------------------------------

    async def register_worker(
        self, worker_id: str, *, hostname: str, pid: int, concurrency: int
    ) -> WorkerRecord:
        return await self._run(
            f"register worker {worker_id!r}",
            lambda c: workers_sql.register(c, worker_id, hostname, pid, concurrency, self._now(c)),
        )

    async def worker_heartbeat(
        self, worker_id: str, *, state: WorkerState = "running", stats: dict[str, Any] | None = None
    ) -> None:
        await self._run(
            "worker heartbeat",
            lambda c: workers_sql.heartbeat(c, worker_id, state, stats, self._now(c)),
            idempotent=True,
        )

    async def list_workers(self, *, alive_within_s: float | None = None) -> list[WorkerRecord]:
        def op(conn: Connection) -> list[WorkerRecord]:
            after = None if alive_within_s is None else self._now(conn) - alive_within_s
            return workers_sql.list_workers(conn, after)

        return await self._run("list workers", op, write=False, idempotent=True)


async def open_store(
    url: str | None = None,
    *,
    settings: Settings | None = None,
    secret_key: str | bytes | None = None,
    migrate: bool = True,
) -> SqlStore:
    """Open (and by default migrate) the store at ``url`` (default: settings.database.url)."""
    if settings is None:
        from netfleet.core.settings import load_settings

        settings = load_settings()
    store = SqlStore(
        url or settings.database.url,
        secret_key=secret_key if secret_key is not None else load_key(settings),
    )
    if migrate:
        try:
            await store.migrate()
        except BaseException:
            await store.close()
            raise
    return store

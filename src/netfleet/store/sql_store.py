"""``SqlStore``: the ``Store`` interface over SQLite or PostgreSQL (plumbing in ``base``).

Each operation is one short transaction of synchronous SQLAlchemy Core, run on
the store's own thread(s): one writer thread for SQLite, a small pool of
connections for PostgreSQL. Database errors become netfleet errors here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy.engine import Connection

from netfleet.core.errors import LeaseLost, NotFound
from netfleet.core.models import Credential, DeviceSpec
from netfleet.core.settings import Settings
from netfleet.jobs.model import JobSpec, parse_job_spec
from netfleet.store import (
    claim_sql,
    credentials_sql,
    devices_sql,
    holds_sql,
    jobs_sql,
    queue_sql,
    reads_sql,
    workers_sql,
)
from netfleet.store.base import StoreBase
from netfleet.store.crypto import load_key
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
    Store,
    TaskEvent,
    TaskOutcome,
    WorkerRecord,
    WorkerState,
)


class SqlStore(StoreBase):
    """The durable store. Use ``await open_store(url)``, or construct then ``await migrate()``."""

    # --- inventory ------------------------------------------------------------

    async def upsert_credential(self, credential: Credential) -> CredentialRecord:
        def op(conn: Connection) -> CredentialRecord:
            cid = credentials_sql.upsert_credential(conn, self._box, credential, self._now(conn))
            return next(c for c in credentials_sql.list_credentials(conn) if c.id == cid)

        return await self._run(f"store credential {credential.name!r}", op)

    async def list_credentials(self) -> list[CredentialRecord]:
        return await self._run(
            "list credentials", credentials_sql.list_credentials, write=False, idempotent=True
        )

    async def delete_credential(self, name: str) -> None:
        await self._run(
            f"delete credential {name!r}", lambda c: credentials_sql.delete_credential(c, name)
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
                cursor=None if cursor is None else _clamp(cursor),
            ),
            write=False,
            idempotent=True,
        )

    async def delete_device(self, name: str) -> None:
        await self._run(f"delete device {name!r}", lambda c: devices_sql.delete_device(c, name))

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
            return reads_sql.get_job(
                conn, self._specs, job_id, with_tasks=False, with_outputs=False
            )

        job = await self._run("submit a job", op)
        self._wake()
        return job

    async def get_job(self, job_id: int, *, tasks: bool = True, outputs: bool = True) -> JobRecord:
        _check_id("job", job_id)
        return await self._run(
            f"read job {job_id}",
            lambda c: reads_sql.get_job(
                c, self._specs, job_id, with_tasks=tasks, with_outputs=outputs
            ),
            write=False,
            idempotent=True,
        )

    async def list_jobs(
        self, filt: JobFilter | None = None, *, limit: int = 50, cursor: int | None = None
    ) -> Page:
        cursor = None if cursor is None else _clamp(cursor)
        if (
            filt is not None
            and filt.schedule_id is not None
            and _clamp(filt.schedule_id) != (filt.schedule_id)
        ):
            return Page(items=(), next_cursor=None)
        return await self._run(
            "list jobs",
            lambda c: reads_sql.list_jobs(
                c, self._specs, filt or JobFilter(), max(1, min(limit, 1000)), cursor
            ),
            write=False,
            idempotent=True,
        )

    async def cancel(self, job_id: int) -> JobRecord:
        _check_id("job", job_id)

        def op(conn: Connection) -> JobRecord:
            jobs_sql.cancel_job(conn, job_id, self._now(conn))
            return reads_sql.get_job(conn, self._specs, job_id, with_tasks=True, with_outputs=False)

        return await self._run(f"cancel job {job_id}", op)

    async def events(self, job_id: int, *, after_id: int = 0, limit: int = 1000) -> list[TaskEvent]:
        _check_id("job", job_id)
        after_id = _clamp(after_id)
        return await self._run(
            f"read events of job {job_id}",
            lambda c: reads_sql.job_events(c, job_id, after_id, max(1, min(limit, 10_000))),
            write=False,
            idempotent=True,
        )

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

        await self._run(
            "record events",
            lambda c: queue_sql.record_events(c, worker_id, events, self._now(c)),
        )

    async def release_holds(self, worker_id: str, holds: Mapping[int, int] | None = None) -> int:
        if holds is not None and not any(n > 0 for n in holds.values()):
            return 0
        freed = await self._run(
            "release session holds",
            lambda c: holds_sql.release_holds(
                c, postgres=self._postgres, worker_id=worker_id, holds=holds
            ),
        )
        if freed:
            self._wake()
        return freed

    async def reap(self) -> ReapResult:
        result = await self._run(
            "reap expired leases",
            lambda c: queue_sql.reap(c, postgres=self._postgres, now=self._now(c)),
        )
        # Its own transaction: it locks other devices' slot rows (in device order).
        freed = await self._run(
            "free expired session holds",
            lambda c: holds_sql.reap_holds(c, postgres=self._postgres, now=self._now(c)),
        )
        if result.requeued or freed:
            self._wake()
        return replace(result, holds_freed=freed)

    async def expire_deadlines(self, grace_s: float = 30.0) -> list[int]:
        return await self._run(
            "expire task deadlines",
            lambda c: queue_sql.expire_deadlines(
                c, postgres=self._postgres, now=self._now(c), grace_s=grace_s
            ),
        )

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


_MAX_ID = 2**63 - 1


def _check_id(kind: str, value: int) -> None:
    """Ids outside the 64-bit range cannot exist (and would overflow the drivers)."""
    if not 0 < value <= _MAX_ID:
        raise NotFound(f"{kind} {value} not found")


def _clamp(value: int) -> int:
    return max(-_MAX_ID, min(value, _MAX_ID))


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


def _implements_store(store: SqlStore) -> Store:
    """Type-checks that ``SqlStore`` implements the ``Store`` protocol."""
    return store

"""Façade of safe changes: ``store.changes`` — approvals, rollouts, change windows."""

from __future__ import annotations

import builtins
from collections.abc import Sequence

from sqlalchemy.engine import Connection

from netfleet.jobs.gates import ChangePolicy
from netfleet.jobs.model import JobState
from netfleet.jobs.windows import Verdict, Window, WindowSpec, judge
from netfleet.store.facades import Facade
from netfleet.store.facades.jobs import check_id
from netfleet.store.records_changes import GateRecord, WindowRecord
from netfleet.store.sql import gates as gates_sql
from netfleet.store.sql import rollouts as rollouts_sql
from netfleet.store.sql import windows as windows_sql


class Changes(Facade):
    """Approve or reject gated jobs, resume halted rollouts, manage change windows."""

    @property
    def policy(self) -> ChangePolicy:
        """What submit applies: approvals, and the clock windows are judged by."""
        return self._db.change_policy

    @policy.setter
    def policy(self, value: ChangePolicy) -> None:
        self._db.change_policy = value

    async def gate(self, job_id: int) -> GateRecord:
        """The job's gate; ``NotFound`` if the job has none."""
        check_id("job", job_id)
        return await self._db.run(
            lambda c: rollouts_sql.get_gate(c, job_id),
            what=f"read the gate of job {job_id}",
            write=False,
            idempotent=True,
        )

    async def gates(
        self, states: Sequence[str] = (), *, limit: int = 100
    ) -> builtins.list[GateRecord]:
        """Gated jobs, newest first (``states``: any of these gate states)."""
        return await self._db.run(
            lambda c: rollouts_sql.list_gates(c, tuple(states), max(1, min(limit, 1000))),
            what="list gated jobs",
            write=False,
            idempotent=True,
        )

    async def approve(self, job_id: int, actor: str) -> JobState:
        """Approve (``Forbidden`` for the submitter); the job's state afterwards."""
        check_id("job", job_id)
        db = self._db
        state = await db.run(
            lambda c: rollouts_sql.approve(c, job_id, actor, db.clock(c)),
            what=f"approve job {job_id}",
        )
        db.wake()
        return state

    async def reject(self, job_id: int, actor: str, reason: str = "") -> None:
        """Reject a job awaiting approval: it is cancelled."""
        check_id("job", job_id)
        db = self._db
        await db.run(
            lambda c: rollouts_sql.reject(c, job_id, actor, reason[:1000], db.clock(c)),
            what=f"reject job {job_id}",
        )

    async def resume(self, job_id: int, actor: str) -> JobState:
        """Resume a halted rollout; the job's state afterwards."""
        check_id("job", job_id)
        db = self._db
        state = await db.run(
            lambda c: rollouts_sql.resume(c, job_id, actor, db.clock(c)),
            what=f"resume job {job_id}",
        )
        db.wake()
        return state

    async def release_open_windows(self, limit: int = 100) -> builtins.list[int]:
        """Release jobs whose change window is open now (the scheduler calls this)."""
        db = self._db

        def op(conn: Connection) -> list[int]:
            return rollouts_sql.release_open_windows(conn, db.clock(conn), limit)

        released = await db.run(op, what="release jobs in open change windows")
        if released:
            db.wake()
        return released

    # --- windows ----------------------------------------------------------------

    async def put_window(self, spec: WindowSpec) -> tuple[WindowRecord, bool]:
        """Create or replace a window by name; (record, created)."""
        db = self._db
        return await db.run(
            lambda c: windows_sql.put_window(c, spec, db.clock(c)),
            what=f"store change window {spec.name!r}",
        )

    async def window(self, name: str) -> WindowRecord:
        return await self._db.run(
            lambda c: windows_sql.get_window(c, name),
            what=f"read change window {name!r}",
            write=False,
            idempotent=True,
        )

    async def windows(self) -> builtins.list[WindowRecord]:
        return await self._db.run(
            windows_sql.list_windows, what="list change windows", write=False, idempotent=True
        )

    async def delete_window(self, name: str) -> None:
        await self._db.run(
            lambda c: windows_sql.delete_window(c, name), what=f"delete change window {name!r}"
        )

    async def verdict(self, at: float | None = None) -> Verdict:
        """May a config change start at ``at`` (default: now, by the policy's clock), by the
        windows that apply to every job (scoped windows are judged per job)?"""
        db = self._db

        def op(conn: Connection) -> Verdict:
            windows: list[Window] = windows_sql.load_windows(conn)
            t = at if at is not None else gates_sql.window_time(conn, db.clock(conn))
            return judge(windows, t)

        return await db.run(op, what="judge change windows", write=False, idempotent=True)

"""Read-only SQL for dashboard pages that the other families do not serve: the
devices a draft job would target, and the sessions open to a device right now.

Every function runs inside a transaction the caller opened on ``conn``.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from netfleet.core.errors import ValidationError
from netfleet.jobs.model import JobSpec, Targets
from netfleet.store.schema import session_holds, tasks
from netfleet.store.sql.targets import resolve_targets


@dataclass(frozen=True, slots=True)
class TargetPreview:
    """What a draft job's targets match: how many devices, the first names, or why none."""

    count: int
    names: tuple[str, ...]
    error: str | None = None


def preview_targets(conn: Connection, targets: Targets, limit: int) -> TargetPreview:
    """The devices ``targets`` resolve to, as a submitted job would (same resolution,
    same errors): the count and the first ``limit`` names, or the error message."""
    if targets.is_empty():
        return TargetPreview(0, (), None)
    probe = JobSpec(targets=targets, commands=["-"])
    try:
        chosen = resolve_targets(conn, probe)
    except ValidationError as exc:
        return TargetPreview(0, (), exc.message)
    return TargetPreview(len(chosen), tuple(name for _, name in chosen[:limit]))


@dataclass(frozen=True, slots=True)
class WorkerSessions:
    """Sessions one worker has open to a device: running tasks and idle pooled ones."""

    worker_id: str
    running: int
    idle: int

    @property
    def total(self) -> int:
        return self.running + self.idle


def device_sessions(conn: Connection, device_id: int, now: float) -> list[WorkerSessions]:
    """Per worker, the sessions open to ``device_id`` now (live holds + running tasks)."""
    per: dict[str, list[int]] = {}
    running = conn.execute(
        sa.select(tasks.c.lease_owner, sa.func.count())
        .where(
            tasks.c.device_id == device_id,
            tasks.c.state == "running",
            tasks.c.lease_owner.is_not(None),
        )
        .group_by(tasks.c.lease_owner)
    )
    for owner, n in running:
        per.setdefault(str(owner), [0, 0])[0] += int(n)
    holds = conn.execute(
        sa.select(session_holds.c.worker_id, session_holds.c.held).where(
            session_holds.c.device_id == device_id,
            session_holds.c.held > 0,
            session_holds.c.expires_at > now,
        )
    )
    for worker, held in holds:
        per.setdefault(str(worker), [0, 0])[1] += int(held)
    return [WorkerSessions(w, r, i) for w, (r, i) in sorted(per.items())]

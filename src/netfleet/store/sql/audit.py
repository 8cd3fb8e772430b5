"""The audit log of mutating requests (who did what, with which result)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from netfleet.store.schema import audit_log


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: int
    at: float
    actor: str
    role: str
    method: str
    path: str
    status: int
    detail: dict[str, Any] | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "at": self.at,
            "actor": self.actor,
            "role": self.role,
            "method": self.method,
            "path": self.path,
            "status": self.status,
            "detail": self.detail,
        }


def record(
    conn: Connection,
    now: float,
    *,
    actor: str,
    role: str,
    method: str,
    path: str,
    status: int,
    detail: dict[str, Any] | None,
) -> None:
    conn.execute(
        audit_log.insert().values(
            at=now,
            actor=actor,
            role=role,
            method=method,
            path=path[:2048],
            status=status,
            detail=detail,
        )
    )


def list_entries(conn: Connection, limit: int, before_id: int | None) -> list[AuditEntry]:
    """The newest entries first (those before ``before_id`` when given)."""
    query = sa.select(audit_log).order_by(audit_log.c.id.desc()).limit(limit)
    if before_id is not None:
        query = query.where(audit_log.c.id < before_id)
    return [AuditEntry(**dict(r._mapping)) for r in conn.execute(query).all()]


def prune(conn: Connection, before: float, batch: int) -> int:
    """Delete up to ``batch`` entries older than ``before`` (oldest first); the count."""
    ids = sa.select(audit_log.c.id).where(audit_log.c.at < before).order_by(audit_log.c.id)
    doomed = list(conn.execute(ids.limit(batch)).scalars())
    if not doomed:
        return 0
    conn.execute(audit_log.delete().where(audit_log.c.id.in_(doomed)))
    return len(doomed)


def count(conn: Connection) -> int:
    return int(conn.execute(sa.select(sa.func.count()).select_from(audit_log)).scalar_one())

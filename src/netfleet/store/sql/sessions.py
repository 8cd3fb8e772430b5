"""Dashboard sessions, stored by the SHA-256 of their random id.

A session belongs to the API token that signed in; it ends at ``expires_at``,
after ``idle_s`` without use, at logout, or when the token is revoked (the
token's revocation deletes its sessions; lookups also require a live token).
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from netfleet.store.schema import api_tokens
from netfleet.store.schema_hardening import dashboard_sessions
from netfleet.store.sql.tokens import Role, hash_token


@dataclass(frozen=True, slots=True)
class SessionRecord:
    """A live dashboard session and the token behind it."""

    token_id: int
    name: str
    role: Role
    created_at: float
    last_seen_at: float
    expires_at: float


def create(conn: Connection, session_id: str, token_id: int, now: float, lifetime_s: float) -> None:
    conn.execute(
        dashboard_sessions.insert().values(
            id_hash=hash_token(session_id),
            token_id=token_id,
            created_at=now,
            last_seen_at=now,
            expires_at=now + lifetime_s,
        )
    )


def find(conn: Connection, session_id: str) -> SessionRecord | None:
    """The session ``session_id`` if its token is unrevoked (ended or not), else None."""
    s, t = dashboard_sessions.c, api_tokens.c
    row = conn.execute(
        sa.select(s.token_id, t.name, t.role, s.created_at, s.last_seen_at, s.expires_at)
        .select_from(dashboard_sessions.join(api_tokens, t.id == s.token_id))
        .where(s.id_hash == hash_token(session_id), t.revoked_at.is_(None))
    ).first()
    if row is None:
        return None
    return SessionRecord(
        row.token_id, row.name, row.role, row.created_at, row.last_seen_at, row.expires_at
    )


def touch(conn: Connection, session_id: str, now: float) -> None:
    conn.execute(
        dashboard_sessions.update()
        .where(dashboard_sessions.c.id_hash == hash_token(session_id))
        .values(last_seen_at=now)
    )


def delete(conn: Connection, session_id: str) -> bool:
    result = conn.execute(
        dashboard_sessions.delete().where(dashboard_sessions.c.id_hash == hash_token(session_id))
    )
    return bool(result.rowcount)


def prune(conn: Connection, now: float, idle_s: float) -> int:
    """Delete sessions that expired or sat idle too long; the count."""
    s = dashboard_sessions.c
    result = conn.execute(
        dashboard_sessions.delete().where(
            sa.or_(s.expires_at <= now, s.last_seen_at <= now - idle_s)
        )
    )
    return int(result.rowcount or 0)


def count_for(conn: Connection, token_id: int) -> int:
    query = sa.select(sa.func.count()).where(dashboard_sessions.c.token_id == token_id)
    return int(conn.execute(query).scalar_one())

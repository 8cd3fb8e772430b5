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


def find(
    conn: Connection, session_id: str, now: float, idle_s: float, touch_after_s: float
) -> SessionRecord | None:
    """The live session ``session_id`` (its token unrevoked, not expired, not idle too
    long), its last use moved to ``now`` if older than ``touch_after_s``; else None."""
    digest = hash_token(session_id)
    s, t = dashboard_sessions.c, api_tokens.c
    row = conn.execute(
        sa.select(s.token_id, t.name, t.role, s.created_at, s.last_seen_at, s.expires_at)
        .select_from(dashboard_sessions.join(api_tokens, t.id == s.token_id))
        .where(s.id_hash == digest, t.revoked_at.is_(None))
    ).first()
    if row is None:
        return None
    if row.expires_at <= now or row.last_seen_at + idle_s <= now:
        conn.execute(dashboard_sessions.delete().where(s.id_hash == digest))
        return None
    seen = row.last_seen_at
    if now - seen >= touch_after_s:
        conn.execute(
            dashboard_sessions.update().where(s.id_hash == digest).values(last_seen_at=now)
        )
        seen = now
    return SessionRecord(row.token_id, row.name, row.role, row.created_at, seen, row.expires_at)


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

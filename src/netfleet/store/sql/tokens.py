"""API tokens, stored hashed.

Tokens are ``nf_`` + 32 random bytes (urlsafe); only their SHA-256 is stored,
so a database dump reveals no usable token.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from netfleet.core.errors import Conflict, NotFound, ValidationError
from netfleet.store.schema import api_tokens
from netfleet.store.schema_hardening import dashboard_sessions, revoked_token_hashes

Role = Literal["viewer", "operator", "admin"]
ROLES: tuple[Role, ...] = ("viewer", "operator", "admin")
TOKEN_PREFIX = "nf_"


@dataclass(frozen=True, slots=True)
class TokenRecord:
    id: int
    name: str
    role: Role
    created_at: float
    last_used_at: float | None
    revoked_at: float | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "role": self.role,
            "created_at": self.created_at,
            "last_used_at": self.last_used_at,
            "revoked": self.revoked_at is not None,
        }


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def check_new(name: str, role: str) -> None:
    """``ValidationError`` for an unknown role or a bad name."""
    if role not in ROLES:
        raise ValidationError(f"role: must be one of {', '.join(ROLES)}, not {role!r}")
    if not name or len(name) > 255:
        raise ValidationError("name: must be 1..255 characters")


def _record(row: sa.Row[Any]) -> TokenRecord:
    m = row._mapping
    return TokenRecord(
        id=m["id"],
        name=m["name"],
        role=m["role"],
        created_at=m["created_at"],
        last_used_at=m["last_used_at"],
        revoked_at=m["revoked_at"],
    )


def _by_id(conn: Connection, token_id: int) -> TokenRecord:
    return _record(conn.execute(sa.select(api_tokens).where(api_tokens.c.id == token_id)).one())


def was_revoked(conn: Connection, plain: str) -> bool:
    """Whether a token equal to ``plain`` was ever revoked (revocations are kept for good)."""
    query = sa.select(revoked_token_hashes.c.token_hash).where(
        revoked_token_hashes.c.token_hash == hash_token(plain)
    )
    return conn.execute(query).first() is not None


def create(conn: Connection, name: str, role: str, plain: str, now: float) -> TokenRecord:
    """Store the hash of ``plain`` under ``name``; ``Conflict`` if the name is taken or
    ``plain`` was revoked before."""
    if conn.execute(sa.select(api_tokens.c.id).where(api_tokens.c.name == name)).first():
        raise Conflict(f"a token named {name!r} exists already")
    if was_revoked(conn, plain):
        raise Conflict(f"token {name!r}: this token was revoked before and cannot be reused")
    row = conn.execute(
        api_tokens.insert()
        .values(name=name, role=role, token_hash=hash_token(plain), created_at=now)
        .returning(*api_tokens.c)
    ).one()
    return _record(row)


def ensure(conn: Connection, name: str, role: str, plain: str, now: float) -> TokenRecord | None:
    """Make ``plain`` the live token ``name`` with ``role`` (created if absent); None,
    changing nothing, if ``plain`` was revoked before: a revocation holds for good."""
    if was_revoked(conn, plain):
        return None
    found = reset(conn, name, role, plain)
    return found if found is not None else create(conn, name, role, plain, now)


def reset(conn: Connection, name: str, role: str, plain: str) -> TokenRecord | None:
    """Make ``plain`` the live token named ``name`` with ``role``; None if no such name."""
    row = conn.execute(sa.select(api_tokens).where(api_tokens.c.name == name)).first()
    if row is None:
        return None
    conn.execute(
        api_tokens.update()
        .where(api_tokens.c.id == row.id)
        .values(token_hash=hash_token(plain), role=role, revoked_at=None)
    )
    return _by_id(conn, row.id)


def find_live(conn: Connection, plain: str) -> TokenRecord | None:
    """The unrevoked token whose hash is that of ``plain``, or None."""
    row = conn.execute(
        sa.select(api_tokens).where(
            api_tokens.c.token_hash == hash_token(plain), api_tokens.c.revoked_at.is_(None)
        )
    ).first()
    return None if row is None else _record(row)


def touch(conn: Connection, token_id: int, now: float) -> None:
    conn.execute(api_tokens.update().where(api_tokens.c.id == token_id).values(last_used_at=now))


def exists_any(conn: Connection) -> bool:
    return conn.execute(sa.select(sa.func.count()).select_from(api_tokens)).scalar_one() > 0


def list_all(conn: Connection) -> list[TokenRecord]:
    rows = conn.execute(sa.select(api_tokens).order_by(api_tokens.c.id)).all()
    return [_record(r) for r in rows]


def _live_admins(conn: Connection) -> list[int]:
    """Ids of the unrevoked admin tokens, locked (PostgreSQL) until the transaction ends."""
    query = (
        sa.select(api_tokens.c.id)
        .where(api_tokens.c.role == "admin", api_tokens.c.revoked_at.is_(None))
        .order_by(api_tokens.c.id)
        .with_for_update()
    )
    return list(conn.execute(query).scalars())


def revoke(conn: Connection, name: str, now: float) -> TokenRecord:
    """Revoke the token named ``name`` for good (its hash is kept, its dashboard sessions
    end); ``NotFound`` if absent, ``Conflict`` if it is the last live admin token."""
    row = conn.execute(sa.select(api_tokens).where(api_tokens.c.name == name)).first()
    if row is None:
        raise NotFound(f"no token named {name!r}")
    if row.revoked_at is not None:
        return _record(row)
    if row.role == "admin" and _live_admins(conn) == [row.id]:
        raise Conflict(
            f"cannot revoke {name!r}: it is the last admin token, and without one nobody "
            "could manage tokens; create another admin token first"
        )
    conn.execute(api_tokens.update().where(api_tokens.c.id == row.id).values(revoked_at=now))
    conn.execute(
        revoked_token_hashes.insert().values(token_hash=row.token_hash, name=name, revoked_at=now)
    )
    conn.execute(dashboard_sessions.delete().where(dashboard_sessions.c.token_id == row.id))
    return _by_id(conn, row.id)

"""API tokens (stored hashed) and the audit log of mutating requests.

Tokens are ``nf_`` + 32 random bytes (urlsafe); only their SHA-256 is stored,
so a database dump reveals no usable token.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from netfleet.core.errors import Conflict, NotFound, ValidationError
from netfleet.store.interface import Store
from netfleet.store.schema import BigId, Time, metadata

Role = Literal["viewer", "operator", "admin"]
ROLES: tuple[Role, ...] = ("viewer", "operator", "admin")
TOKEN_PREFIX = "nf_"

api_tokens = sa.Table(
    "api_tokens",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(255), nullable=False, unique=True),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("last_used_at", Time),
    sa.Column("revoked_at", Time),
)

audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("at", Time, nullable=False, index=True),
    sa.Column("actor", sa.String(255), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("method", sa.String(8), nullable=False),
    sa.Column("path", sa.String(2048), nullable=False),
    sa.Column("status", sa.Integer, nullable=False),
    sa.Column("detail", sa.JSON),
)


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


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


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


async def create_token(
    store: Store, name: str, role: str, *, token: str | None = None
) -> tuple[TokenRecord, str]:
    """Store a new token; returns its record and the plain token (shown once)."""
    if role not in ROLES:
        raise ValidationError(f"role: must be one of {', '.join(ROLES)}, not {role!r}")
    if not name or len(name) > 255:
        raise ValidationError("name: must be 1..255 characters")
    plain = token or new_token()

    def insert(conn: Connection) -> TokenRecord:
        if conn.execute(sa.select(api_tokens.c.id).where(api_tokens.c.name == name)).first():
            raise Conflict(f"a token named {name!r} exists already")
        row = conn.execute(
            api_tokens.insert()
            .values(name=name, role=role, token_hash=hash_token(plain), created_at=time.time())
            .returning(*api_tokens.c)
        ).one()
        return _record(row)

    return await store.run_sync(insert), plain


async def ensure_token(store: Store, name: str, role: str, token: str) -> TokenRecord:
    """Make ``token`` valid under ``name`` (for a preset admin token); idempotent."""

    def upsert(conn: Connection) -> TokenRecord | None:
        digest = hash_token(token)
        row = conn.execute(sa.select(api_tokens).where(api_tokens.c.name == name)).first()
        if row is None:
            return None
        conn.execute(
            api_tokens.update()
            .where(api_tokens.c.id == row.id)
            .values(token_hash=digest, role=role, revoked_at=None)
        )
        return _record(conn.execute(sa.select(api_tokens).where(api_tokens.c.id == row.id)).one())

    found = await store.run_sync(upsert)
    if found is not None:
        return found
    record, _ = await create_token(store, name, role, token=token)
    return record


async def verify_token(store: Store, token: str) -> TokenRecord | None:
    """The live token matching ``token``, or None."""
    digest = hash_token(token)

    def lookup(conn: Connection) -> TokenRecord | None:
        row = conn.execute(
            sa.select(api_tokens).where(
                api_tokens.c.token_hash == digest, api_tokens.c.revoked_at.is_(None)
            )
        ).first()
        return None if row is None else _record(row)

    return await store.run_sync(lookup, write=False)


async def touch_token(store: Store, token_id: int) -> None:
    def update(conn: Connection) -> None:
        conn.execute(
            api_tokens.update().where(api_tokens.c.id == token_id).values(last_used_at=time.time())
        )

    await store.run_sync(update)


async def has_tokens(store: Store) -> bool:
    def count(conn: Connection) -> bool:
        return conn.execute(sa.select(sa.func.count()).select_from(api_tokens)).scalar_one() > 0

    return await store.run_sync(count, write=False)


async def list_tokens(store: Store) -> list[TokenRecord]:
    def select(conn: Connection) -> list[TokenRecord]:
        rows = conn.execute(sa.select(api_tokens).order_by(api_tokens.c.id)).all()
        return [_record(r) for r in rows]

    return await store.run_sync(select, write=False)


async def revoke_token(store: Store, name: str) -> TokenRecord:
    def revoke(conn: Connection) -> TokenRecord:
        row = conn.execute(sa.select(api_tokens).where(api_tokens.c.name == name)).first()
        if row is None:
            raise NotFound(f"no token named {name!r}")
        conn.execute(
            api_tokens.update().where(api_tokens.c.id == row.id).values(revoked_at=time.time())
        )
        return _record(conn.execute(sa.select(api_tokens).where(api_tokens.c.id == row.id)).one())

    return await store.run_sync(revoke)


async def record_audit(
    store: Store,
    *,
    actor: str,
    role: str,
    method: str,
    path: str,
    status: int,
    detail: dict[str, Any] | None = None,
) -> None:
    def insert(conn: Connection) -> None:
        conn.execute(
            audit_log.insert().values(
                at=time.time(),
                actor=actor,
                role=role,
                method=method,
                path=path[:2048],
                status=status,
                detail=detail,
            )
        )

    await store.run_sync(insert)


async def list_audit(
    store: Store, *, limit: int = 100, before_id: int | None = None
) -> list[AuditEntry]:
    def select(conn: Connection) -> list[AuditEntry]:
        q = sa.select(audit_log).order_by(audit_log.c.id.desc()).limit(limit)
        if before_id is not None:
            q = q.where(audit_log.c.id < before_id)
        return [AuditEntry(**dict(r._mapping)) for r in conn.execute(q).all()]

    return await store.run_sync(select, write=False)

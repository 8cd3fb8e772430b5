"""Façades of access control: ``store.tokens`` and ``store.audit``."""

from __future__ import annotations

import builtins
from typing import Any

from netfleet.store.facades import Facade
from netfleet.store.sql import audit as audit_sql
from netfleet.store.sql import tokens as tokens_sql
from netfleet.store.sql.audit import AuditEntry
from netfleet.store.sql.tokens import TokenRecord


class Tokens(Facade):
    """API tokens, stored hashed (``netfleet.store.sql.tokens``)."""

    async def create(
        self, name: str, role: str, *, token: str | None = None
    ) -> tuple[TokenRecord, str]:
        """Store a new token; returns its record and the plain token (shown once)."""
        tokens_sql.check_new(name, role)
        plain = token or tokens_sql.new_token()
        db = self._db
        record = await db.run(
            lambda c: tokens_sql.create(c, name, role, plain, db.clock(c)),
            what=f"create token {name!r}",
        )
        return record, plain

    async def ensure(self, name: str, role: str, token: str) -> TokenRecord | None:
        """Make ``token`` valid under ``name`` (for a preset admin token); idempotent.
        None if ``token`` was revoked: it stays revoked (across restarts too)."""
        tokens_sql.check_new(name, role)
        db = self._db
        return await db.run(
            lambda c: tokens_sql.ensure(c, name, role, token, db.clock(c)),
            what=f"preset token {name!r}",
        )

    async def verify(self, token: str) -> TokenRecord | None:
        """The live token matching ``token``, or None."""
        return await self._db.run(
            lambda c: tokens_sql.find_live(c, token), what="verify a token", write=False
        )

    async def touch(self, token_id: int) -> None:
        """Record that the token was used now."""
        db = self._db
        await db.run(
            lambda c: tokens_sql.touch(c, token_id, db.clock(c)), what="record a token's use"
        )

    async def exist(self) -> bool:
        """Whether any token was ever created (then the API requires one)."""
        return await self._db.run(tokens_sql.exists_any, what="count tokens", write=False)

    async def list(self) -> builtins.list[TokenRecord]:
        return await self._db.run(tokens_sql.list_all, what="list tokens", write=False)

    async def revoke(self, name: str) -> TokenRecord:
        """Revoke the token named ``name`` for good, ending its dashboard sessions;
        ``NotFound`` if absent, ``Conflict`` if it is the last live admin token."""
        db = self._db
        return await db.run(
            lambda c: tokens_sql.revoke(c, name, db.clock(c)), what=f"revoke token {name!r}"
        )


class Audit(Facade):
    """The audit log of mutating requests."""

    async def record(
        self,
        *,
        actor: str,
        role: str,
        method: str,
        path: str,
        status: int,
        detail: dict[str, Any] | None = None,
    ) -> None:
        db = self._db
        await db.run(
            lambda c: audit_sql.record(
                c,
                db.clock(c),
                actor=actor,
                role=role,
                method=method,
                path=path,
                status=status,
                detail=detail,
            ),
            what="record an audit entry",
        )

    async def prune(self, older_than_s: float, *, batch: int = 5000) -> int:
        """Delete entries older than ``older_than_s`` seconds, in batches of ``batch``
        (short transactions); returns how many were deleted."""
        db = self._db
        total = 0
        while True:
            deleted = await db.run(
                lambda c: audit_sql.prune(c, db.clock(c) - older_than_s, batch),
                what="apply audit retention",
            )
            total += deleted
            if deleted < batch:
                return total

    async def count(self) -> int:
        """How many entries the audit log holds."""
        return await self._db.run(audit_sql.count, what="count audit entries", write=False)

    async def list(
        self, *, limit: int = 100, before_id: int | None = None
    ) -> builtins.list[AuditEntry]:
        """The newest entries first (those before ``before_id`` when given)."""
        return await self._db.run(
            lambda c: audit_sql.list_entries(c, limit, before_id),
            what="read the audit log",
            write=False,
        )

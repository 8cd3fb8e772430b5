"""Façades of the inventory: ``store.devices`` and ``store.credentials``."""

from __future__ import annotations

import builtins
from collections.abc import Sequence

from sqlalchemy.engine import Connection

from netfleet.core.models import Credential, DeviceSpec
from netfleet.store.facades import Facade, clamp
from netfleet.store.records import (
    CredentialRecord,
    DeviceRecord,
    GroupCredentialRecord,
    ImportReport,
    Page,
)
from netfleet.store.sql import credentials as credentials_sql
from netfleet.store.sql import devices as devices_sql
from netfleet.store.sql import devices_bulk
from netfleet.store.sql import group_credentials as group_sql

IMPORT_CHUNK = 500


class Devices(Facade):
    """Devices with their labels, credentials and slots."""

    async def upsert(self, spec: DeviceSpec) -> DeviceRecord:
        """Create or update a device by name. Credentials in ``spec.credentials`` with a
        name and secrets are stored (upserted) too; a credential given by name only
        (no secrets) must already exist. ``UnknownPlatform``/``ValidationError`` on bad
        input."""
        db = self._db

        def op(conn: Connection) -> DeviceRecord:
            devices_sql.upsert_device(conn, db.box, spec, db.clock(conn))
            return devices_sql.get_device(conn, db.box, spec.name, with_secrets=False)

        return await db.run(op, what=f"store device {spec.name!r}")

    async def import_many(self, specs: Sequence[DeviceSpec]) -> ImportReport:
        """Upsert many devices; one row per device (errors per row, others still stored)."""
        db = self._db
        rows = []
        for start in range(0, len(specs), IMPORT_CHUNK):
            chunk = specs[start : start + IMPORT_CHUNK]
            rows += await db.run(
                lambda c, chunk=chunk: devices_bulk.import_devices(  # type: ignore[misc]
                    c, db.box, chunk, db.clock(c)
                ),
                what="import devices",
            )
        return ImportReport(rows=tuple(rows))

    async def get(self, name: str, *, with_secrets: bool = False) -> DeviceRecord:
        """``NotFound`` if absent."""
        return await self._db.run(
            lambda c: devices_sql.get_device(c, self._db.box, name, with_secrets=with_secrets),
            what=f"read device {name!r}",
            write=False,
            idempotent=True,
        )

    async def list(
        self,
        *,
        groups: Sequence[str] = (),
        tags: Sequence[str] = (),
        platform: str | None = None,
        name_glob: str | None = None,
        limit: int = 100,
        cursor: int | None = None,
    ) -> Page:
        """Devices (``DeviceRecord``) by id order; ``cursor`` is the last id seen."""
        return await self._db.run(
            lambda c: devices_sql.list_devices(
                c,
                groups=groups,
                tags=tags,
                platform=platform,
                name_glob=name_glob,
                limit=max(1, min(limit, 1000)),
                cursor=None if cursor is None else clamp(cursor),
            ),
            what="list devices",
            write=False,
            idempotent=True,
        )

    async def delete(self, name: str) -> None:
        """``NotFound`` if absent; ``Conflict`` while it has queued or running tasks."""
        await self._db.run(
            lambda c: devices_sql.delete_device(c, name), what=f"delete device {name!r}"
        )

    async def groups(self) -> builtins.list[tuple[str, int]]:
        """Every group name with its number of member devices, by name."""
        return await self._db.run(devices_sql.list_groups, what="list groups", write=False)

    async def changed_since(self, since: float) -> builtins.list[tuple[str, float]]:
        """Devices updated after ``since`` (name, updated_at): their sessions may be stale."""
        return await self._db.run(
            lambda c: devices_sql.changed_since(c, since), what="list changed devices", write=False
        )


class Credentials(Facade):
    """Credentials: secrets encrypted at rest, write-only."""

    async def upsert(self, credential: Credential) -> CredentialRecord:
        """Create or replace the credential named ``credential.name`` (required)."""
        db = self._db

        def op(conn: Connection) -> CredentialRecord:
            cid = credentials_sql.upsert_credential(conn, db.box, credential, db.clock(conn))
            return next(c for c in credentials_sql.list_credentials(conn) if c.id == cid)

        return await db.run(op, what=f"store credential {credential.name!r}")

    async def list(self) -> builtins.list[CredentialRecord]:
        return await self._db.run(
            credentials_sql.list_credentials,
            what="list credentials",
            write=False,
            idempotent=True,
        )

    async def delete(self, name: str) -> None:
        """``NotFound`` if absent; ``Conflict`` while a device still uses it."""
        await self._db.run(
            lambda c: credentials_sql.delete_credential(c, name),
            what=f"delete credential {name!r}",
        )

    async def users(self, name: str) -> builtins.list[str]:
        """Devices that log in with credential ``name``: naming it, or by a group default."""
        return await self._db.run(
            lambda c: credentials_sql.users_of(c, name), what="list credential users", write=False
        )

    async def group_defaults(self) -> builtins.list[GroupCredentialRecord]:
        """Every group's default credential, by group name."""
        return await self._db.run(
            group_sql.list_defaults, what="list group credentials", write=False, idempotent=True
        )

    async def set_group_default(
        self, group: str, credential: str
    ) -> tuple[GroupCredentialRecord, builtins.list[str]]:
        """Make ``credential`` the default of ``group``; the record and the group's
        devices (their sessions are stale). ``NotFound`` for an unknown credential."""
        db = self._db
        return await db.run(
            lambda c: group_sql.set_default(c, group, credential, db.clock(c)),
            what=f"set the default credential of group {group!r}",
        )

    async def delete_group_default(self, group: str) -> builtins.list[str]:
        """Remove the default of ``group`` (``NotFound``); the group's devices."""
        db = self._db
        return await db.run(
            lambda c: group_sql.delete_default(c, group, db.clock(c)),
            what=f"remove the default credential of group {group!r}",
        )

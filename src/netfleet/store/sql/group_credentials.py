"""Group-default credentials: a group's stored credential applies to its devices
unless a device names its own.

Precedence: a device's own credentials win; without them, the default of the first
of the device's groups (in the device's own group order) that has one; without that,
none. Setting, replacing or removing a default (or rotating the credential it names)
bumps the generation of the group's devices, so cached device specs and pooled
sessions are renewed. Every function runs inside the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from netfleet.core.errors import NotFound, ValidationError
from netfleet.core.models import Credential
from netfleet.store.crypto import SecretBox
from netfleet.store.records import GroupCredentialRecord
from netfleet.store.schema import credentials, device_labels, devices
from netfleet.store.schema_credentials import group_credentials as gc
from netfleet.store.sql.credentials import decrypt_credential


def bump_groups(conn: Connection, groups: Sequence[str], now: float) -> list[str]:
    """Bump the generation of every device in ``groups``; their names."""
    if not groups:
        return []
    members = sa.select(device_labels.c.device_id).where(
        device_labels.c.kind == "group", device_labels.c.label.in_(list(groups))
    )
    names = [
        str(r[0]) for r in conn.execute(sa.select(devices.c.name).where(devices.c.id.in_(members)))
    ]
    conn.execute(
        devices.update()
        .where(devices.c.id.in_(members))
        .values(generation=devices.c.generation + 1, updated_at=now)
    )
    return names


def groups_using(conn: Connection, credential_id: int) -> list[str]:
    """The groups whose default is credential ``credential_id``."""
    rows = conn.execute(sa.select(gc.c.group_name).where(gc.c.credential_id == credential_id))
    return sorted(str(r[0]) for r in rows)


def list_defaults(conn: Connection) -> list[GroupCredentialRecord]:
    """Every group default, by group name."""
    members = (
        sa.select(sa.func.count())
        .where(device_labels.c.kind == "group", device_labels.c.label == gc.c.group_name)
        .scalar_subquery()
    )
    rows = conn.execute(
        sa.select(gc, credentials.c.name, credentials.c.username, members.label("members"))
        .join(credentials, credentials.c.id == gc.c.credential_id)
        .order_by(gc.c.group_name)
    )
    return [
        GroupCredentialRecord(
            group=r.group_name,
            credential=r.name,
            username=r.username,
            devices=int(r.members),
            created_at=r.created_at,
            updated_at=r.updated_at,
        )
        for r in rows
    ]


def get_default(conn: Connection, group: str) -> GroupCredentialRecord:
    found = next((d for d in list_defaults(conn) if d.group == group), None)
    if found is None:
        raise NotFound(f"group {group!r} has no default credential")
    return found


def set_default(
    conn: Connection, group: str, credential: str, now: float
) -> tuple[GroupCredentialRecord, list[str]]:
    """Make ``credential`` the default of ``group`` (replacing any); the record and
    the group's devices. ``NotFound`` for an unknown credential."""
    if not group or len(group) > 255:
        raise ValidationError("group: name must be 1..255 characters")
    cid = conn.execute(sa.select(credentials.c.id).where(credentials.c.name == credential)).scalar()
    if cid is None:
        raise NotFound(f"credential {credential!r} not found")
    old = conn.execute(sa.select(gc.c.credential_id).where(gc.c.group_name == group)).first()
    touched: list[str] = []
    if old is None:
        conn.execute(gc.insert().values(group_name=group, credential_id=cid, created_at=now,
                                        updated_at=now))  # fmt: skip
        touched = bump_groups(conn, [group], now)
    elif old.credential_id != cid:
        conn.execute(
            gc.update().where(gc.c.group_name == group).values(credential_id=cid, updated_at=now)
        )
        touched = bump_groups(conn, [group], now)
    return get_default(conn, group), touched


def delete_default(conn: Connection, group: str, now: float) -> list[str]:
    """Remove the default of ``group`` (``NotFound``); the group's devices."""
    if not conn.execute(gc.delete().where(gc.c.group_name == group)).rowcount:
        raise NotFound(f"group {group!r} has no default credential")
    return bump_groups(conn, [group], now)


def default_for(conn: Connection, box: SecretBox, groups: Sequence[str]) -> Credential | None:
    """The decrypted default of the first of ``groups`` that has one, else None."""
    if not groups:
        return None
    rows = conn.execute(
        sa.select(gc.c.group_name, credentials)
        .join(credentials, credentials.c.id == gc.c.credential_id)
        .where(gc.c.group_name.in_(list(groups)))
    ).all()
    by_group = {r.group_name: r for r in rows}
    for group in groups:
        if group in by_group:
            return decrypt_credential(box, by_group[group])
    return None

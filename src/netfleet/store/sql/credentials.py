"""Credential SQL: secrets encrypted at rest (``SecretBox``), write-only through the API.

Every function runs inside a transaction the caller opened on ``conn``.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from netfleet.core.errors import Conflict, NotFound, ValidationError
from netfleet.core.models import Credential
from netfleet.store.crypto import SecretBox
from netfleet.store.records import CredentialRecord
from netfleet.store.schema import credentials, device_credentials, device_labels, devices
from netfleet.store.schema_credentials import group_credentials


def _has_secret(cred: Credential) -> bool:
    return any(
        v is not None
        for v in (cred.password, cred.private_key, cred.private_key_passphrase, cred.enable_secret)
    )


def _credential_record(row: Row[Any]) -> CredentialRecord:
    m = row._mapping
    return CredentialRecord(
        id=m["id"],
        name=m["name"],
        username=m["username"],
        has_password=m["password_enc"] is not None,
        has_private_key=m["private_key_enc"] is not None,
        has_enable_secret=m["enable_secret_enc"] is not None,
        use_agent=bool(m["use_agent"]),
        created_at=m["created_at"],
        updated_at=m["updated_at"],
    )


def decrypt_credential(box: SecretBox, row: Row[Any]) -> Credential:
    m = row._mapping
    what = f"credential {m['name']!r}"
    return Credential(
        username=m["username"],
        password=box.decrypt(m["password_enc"], what=what),
        private_key=box.decrypt(m["private_key_enc"], what=what),
        private_key_passphrase=box.decrypt(m["passphrase_enc"], what=what),
        enable_secret=box.decrypt(m["enable_secret_enc"], what=what),
        name=m["name"],
        use_agent=bool(m["use_agent"]),
    )


def check_credential(cred: Credential) -> None:
    """``ValidationError`` unless ``cred`` can be stored (before anything is written)."""
    if not cred.name or not cred.username:
        raise ValidationError("credential: name and username are required")


def check_device_credential(conn: Connection, cred: Credential, auto: str) -> None:
    """``ValidationError`` if ``credential_id(conn, box, cred, auto, now)`` would raise
    one, found by reading only: a name alone refers to an existing credential."""
    if cred.name and not _has_secret(cred) and not cred.use_agent:
        found = conn.execute(sa.select(credentials.c.id).where(credentials.c.name == cred.name))
        if found.scalar() is not None:
            return
    check_credential(cred if cred.name else _renamed(cred, auto))


def upsert_credential(conn: Connection, box: SecretBox, cred: Credential, now: float) -> int:
    """Create or replace the credential ``cred.name``; bump users' generation on change."""
    check_credential(cred)
    row = conn.execute(sa.select(credentials).where(credentials.c.name == cred.name)).first()
    if row is not None and decrypt_credential(box, row) == cred:
        return int(row.id)
    values = {
        "username": cred.username,
        "password_enc": box.encrypt(cred.password),
        "private_key_enc": box.encrypt(cred.private_key),
        "passphrase_enc": box.encrypt(cred.private_key_passphrase),
        "enable_secret_enc": box.encrypt(cred.enable_secret),
        "use_agent": cred.use_agent,
        "updated_at": now,
    }
    if row is None:
        ins = credentials.insert().values(name=cred.name, created_at=now, **values)
        return int(conn.execute(ins.returning(credentials.c.id)).scalar_one())
    conn.execute(credentials.update().where(credentials.c.id == row.id).values(**values))
    conn.execute(
        devices.update()
        .where(devices.c.id.in_(_users(row.id)))
        .values(generation=devices.c.generation + 1, updated_at=now)
    )
    return int(row.id)


def _users(cid: int) -> sa.Select[tuple[int]]:
    """Ids of the devices naming credential ``cid``, or in a group it is the default of."""
    own = sa.select(device_credentials.c.device_id).where(device_credentials.c.credential_id == cid)
    groups = sa.select(group_credentials.c.group_name).where(
        group_credentials.c.credential_id == cid
    )
    members = sa.select(device_labels.c.device_id).where(
        device_labels.c.kind == "group", device_labels.c.label.in_(groups)
    )
    return sa.union(own, members)  # type: ignore[return-value]


def users_of(conn: Connection, name: str) -> list[str]:
    """Names of the devices a rotation of credential ``name`` concerns (their own or
    their groups' default)."""
    cid = conn.execute(sa.select(credentials.c.id).where(credentials.c.name == name)).scalar()
    if cid is None:
        return []
    rows = conn.execute(sa.select(devices.c.name).where(devices.c.id.in_(_users(int(cid)))))
    return sorted(str(r[0]) for r in rows)


def list_credentials(conn: Connection) -> list[CredentialRecord]:
    rows = conn.execute(sa.select(credentials).order_by(credentials.c.name))
    return [_credential_record(r) for r in rows]


def delete_credential(conn: Connection, name: str) -> None:
    cid = conn.execute(sa.select(credentials.c.id).where(credentials.c.name == name)).scalar()
    if cid is None:
        raise NotFound(f"credential {name!r} not found")
    used = conn.execute(
        sa.select(sa.func.count()).where(device_credentials.c.credential_id == cid)
    ).scalar_one()
    if used:
        raise Conflict(f"credential {name!r} is used by {used} device(s)")
    groups = conn.execute(
        sa.select(group_credentials.c.group_name).where(group_credentials.c.credential_id == cid)
    ).all()
    if groups:
        names = ", ".join(sorted(str(g[0]) for g in groups))
        raise Conflict(f"credential {name!r} is the default of group(s) {names}")
    conn.execute(credentials.delete().where(credentials.c.id == cid))


def credential_id(conn: Connection, box: SecretBox, cred: Credential, auto: str, now: float) -> int:
    """The id of ``cred`` for a device: an existing credential given by name only, else
    upserted (named ``auto`` when it has no name)."""
    named = cred if cred.name else _renamed(cred, auto)
    if cred.name and not _has_secret(cred) and not cred.use_agent:
        cid = conn.execute(
            sa.select(credentials.c.id).where(credentials.c.name == cred.name)
        ).scalar()
        if cid is not None:
            return int(cid)
    return upsert_credential(conn, box, named, now)


def _renamed(cred: Credential, name: str) -> Credential:
    return Credential(
        username=cred.username,
        password=cred.password,
        private_key=cred.private_key,
        private_key_passphrase=cred.private_key_passphrase,
        enable_secret=cred.enable_secret,
        name=name,
        use_agent=cred.use_agent,
    )

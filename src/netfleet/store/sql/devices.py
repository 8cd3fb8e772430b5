"""Inventory SQL: devices, labels and device slots (credentials: ``credentials``).

Every function runs inside a transaction the caller opened on ``conn``.
A device's jump-host credential is stored at ``device_credentials.position = -1``.
"""

from __future__ import annotations

import dataclasses
import fnmatch
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from netfleet.core.errors import Conflict, NotFound, UnknownPlatform, ValidationError
from netfleet.core.models import Credential, DeviceSpec, JumpHost
from netfleet.store.crypto import SecretBox
from netfleet.store.records import DeviceRecord, Page
from netfleet.store.schema import (
    credentials,
    device_credentials,
    device_labels,
    device_slots,
    devices,
)
from netfleet.store.sql.credentials import credential_id, decrypt_credential
from netfleet.store.sql.group_credentials import default_for

JUMP_POSITION = -1
HOST_KEY_POLICIES = ("strict", "accept-new", "off")


def check_platform(name: str) -> None:
    """``UnknownPlatform`` unless ``name`` is registered (``autodetect`` is always allowed)."""
    if name == "autodetect":
        return
    from netfleet.platforms.registry import get_platform

    get_platform(name)


# --- devices ------------------------------------------------------------------


def validate_device(spec: DeviceSpec) -> None:
    where = f"device {spec.name!r}" if spec.name else "device"
    if not spec.name or len(spec.name) > 255:
        raise ValidationError(f"{where}: name must be 1..255 characters")
    if not spec.host:
        raise ValidationError(f"{where}: host is required")
    if not 1 <= spec.port <= 65535:
        raise ValidationError(f"{where}: port {spec.port} is not in 1..65535")
    if spec.max_sessions < 1:
        raise ValidationError(f"{where}: max_sessions must be at least 1")
    if spec.host_key_policy not in HOST_KEY_POLICIES:
        raise ValidationError(f"{where}: host_key_policy must be one of {HOST_KEY_POLICIES}")
    try:
        check_platform(spec.platform)
    except UnknownPlatform as exc:
        raise UnknownPlatform(f"{where}: {exc.message}") from None


CredentialIds = dict[Credential, int]
"""Ids of named credentials already resolved in this transaction (``device_values``)."""


def device_values(
    conn: Connection,
    box: SecretBox,
    spec: DeviceSpec,
    now: float,
    known: CredentialIds | None = None,
) -> tuple[dict[str, Any], list[tuple[int, int]]]:
    """The ``devices`` row values of ``spec`` and its credential links (position, id),
    its credentials found or stored first; ``known``: named credentials resolved before
    (a credential without a name is stored per device, as ``name#position``)."""

    def cred_id(cred: Credential, auto: str) -> int:
        if known is None or not cred.name:
            return credential_id(conn, box, cred, auto, now)
        found = known.get(cred)
        if found is None:
            found = known[cred] = credential_id(conn, box, cred, auto, now)
        return found

    links = [(i, cred_id(c, f"{spec.name}#{i}")) for i, c in enumerate(spec.credentials)]
    jump: dict[str, Any] | None = None
    if spec.jump_host is not None:
        jh = spec.jump_host
        jump = {"host": jh.host, "port": jh.port, "host_key_policy": jh.host_key_policy}
        if jh.credential is not None:
            links.append((JUMP_POSITION, cred_id(jh.credential, f"{spec.name}#jump")))
            jump["credential"] = True
    values: dict[str, Any] = {
        "host": spec.host,
        "port": spec.port,
        "platform": spec.platform,
        "max_sessions": spec.max_sessions,
        "groups": list(spec.groups),
        "tags": list(spec.tags),
        "host_key_policy": spec.host_key_policy,
        "legacy_algorithms": spec.legacy_algorithms,
        "jump_host": jump,
        "options": dict(spec.data),
    }
    return values, links


def label_rows(device_id: int, spec: DeviceSpec) -> list[dict[str, Any]]:
    """The ``device_labels`` rows of ``spec``: its groups and tags."""
    labels = {("group", g) for g in spec.groups} | {("tag", t) for t in spec.tags}
    return [{"device_id": device_id, "kind": k, "label": v} for k, v in sorted(labels)]


def stored_as(
    row: Mapping[Any, Any],
    old_links: Sequence[tuple[int, int]],
    values: dict[str, Any],
    links: Sequence[tuple[int, int]],
) -> bool:
    """Whether a stored device (its row and credential links) already is ``values`` with
    ``links`` (``device_values``)."""
    return all(row[k] == v for k, v in values.items()) and sorted(old_links) == sorted(links)


def upsert_device(
    conn: Connection,
    box: SecretBox,
    spec: DeviceSpec,
    now: float,
    known: CredentialIds | None = None,
) -> tuple[int, str]:
    """Create or update ``spec``; returns (device id, created|updated|unchanged)."""
    validate_device(spec)
    values, links = device_values(conn, box, spec, now, known)
    row = conn.execute(sa.select(devices).where(devices.c.name == spec.name)).first()
    if row is None:
        ins = devices.insert().values(name=spec.name, created_at=now, updated_at=now, **values)
        device_id = int(conn.execute(ins.returning(devices.c.id)).scalar_one())
        action = "created"
        conn.execute(
            device_slots.insert().values(device_id=device_id, max_sessions=spec.max_sessions)
        )
    else:
        device_id = int(row.id)
        old_links = [
            (r.position, r.credential_id)
            for r in conn.execute(
                sa.select(device_credentials)
                .where(device_credentials.c.device_id == device_id)
                .order_by(device_credentials.c.position)
            )
        ]
        if stored_as(row._mapping, old_links, values, links):
            return device_id, "unchanged"
        conn.execute(
            devices.update()
            .where(devices.c.id == device_id)
            .values(generation=devices.c.generation + 1, updated_at=now, **values)
        )
        conn.execute(device_credentials.delete().where(device_credentials.c.device_id == device_id))
        conn.execute(device_labels.delete().where(device_labels.c.device_id == device_id))
        # Never below the sessions running now (the CHECK); release_slots shrinks it later.
        conn.execute(
            device_slots.update()
            .where(device_slots.c.device_id == device_id)
            .values(
                max_sessions=sa.case(
                    (device_slots.c.running > spec.max_sessions, device_slots.c.running),
                    else_=spec.max_sessions,
                )
            )
        )
        action = "updated"
    if links:
        conn.execute(
            device_credentials.insert(),
            [{"device_id": device_id, "position": p, "credential_id": c} for p, c in links],
        )
    labels = label_rows(device_id, spec)
    if labels:
        conn.execute(device_labels.insert(), labels)
    return device_id, action


ID_CHUNK = 900
"""Ids per ``IN (...)`` list: under SQLite's older limit of 999 bound parameters."""


def ids_by_name(conn: Connection, names: Sequence[str]) -> dict[str, int]:
    """``{name: id}`` for those of ``names`` that are devices."""
    found: dict[str, int] = {}
    names = list(names)
    for start in range(0, len(names), ID_CHUNK):
        chunk = names[start : start + ID_CHUNK]
        query = sa.select(devices.c.name, devices.c.id).where(devices.c.name.in_(chunk))
        found.update((r.name, int(r.id)) for r in conn.execute(query))
    return found


def credential_rows(conn: Connection, device_ids: Sequence[int]) -> dict[int, list[Row[Any]]]:
    """Each device's credential rows by position, for many devices in few queries."""
    ids = list(device_ids)
    out: dict[int, list[Row[Any]]] = {i: [] for i in ids}
    for start in range(0, len(ids), ID_CHUNK):
        rows = conn.execute(
            sa.select(device_credentials.c.device_id, device_credentials.c.position, credentials)
            .join(credentials, credentials.c.id == device_credentials.c.credential_id)
            .where(device_credentials.c.device_id.in_(ids[start : start + ID_CHUNK]))
            .order_by(device_credentials.c.device_id, device_credentials.c.position)
        ).all()
        for r in rows:
            out[r.device_id].append(r)
    return out


def device_record(
    conn: Connection,
    box: SecretBox | None,
    row: Row[Any],
    *,
    with_secrets: bool,
    cred_rows: Sequence[Row[Any]] | None = None,
) -> DeviceRecord:
    """Build a record; credentials are decrypted only ``with_secrets`` (else usernames only).
    ``cred_rows``: the device's credential rows when the caller read them already."""
    m = row._mapping
    if cred_rows is None:
        cred_rows = credential_rows(conn, [m["id"]])[m["id"]]

    def cred(r: Row[Any]) -> Credential:
        if with_secrets and box is not None:
            return decrypt_credential(box, r)
        return Credential(username=r.username, name=r.name, use_agent=bool(r.use_agent))

    creds = tuple(cred(r) for r in cred_rows if r.position != JUMP_POSITION)
    jump = None
    if m["jump_host"]:
        jh = m["jump_host"]
        jump_cred = next((cred(r) for r in cred_rows if r.position == JUMP_POSITION), None)
        jump = JumpHost(
            host=jh["host"],
            port=jh["port"],
            credential=jump_cred,
            host_key_policy=jh["host_key_policy"],
        )
    spec = DeviceSpec(
        name=m["name"],
        host=m["host"],
        platform=m["platform"],
        port=m["port"],
        credentials=creds,
        max_sessions=m["max_sessions"],
        groups=tuple(m["groups"]),
        tags=tuple(m["tags"]),
        jump_host=jump,
        host_key_policy=m["host_key_policy"],
        legacy_algorithms=bool(m["legacy_algorithms"]),
        data=dict(m["options"] or {}),
    )
    return DeviceRecord(
        id=m["id"],
        spec=spec,
        credential_names=tuple(r.name for r in cred_rows if r.position != JUMP_POSITION),
        generation=m["generation"],
        created_at=m["created_at"],
        updated_at=m["updated_at"],
    )


def get_device(
    conn: Connection, box: SecretBox | None, name: str, *, with_secrets: bool
) -> DeviceRecord:
    row = conn.execute(sa.select(devices).where(devices.c.name == name)).first()
    if row is None:
        raise NotFound(f"device {name!r} not found")
    record = device_record(conn, box, row, with_secrets=with_secrets)
    if with_secrets and box is not None:
        return with_group_default(conn, box, record)
    return record


def get_device_by_id(conn: Connection, box: SecretBox, device_id: int) -> DeviceRecord:
    """The device as a task logs in to it: decrypted credentials, its own or else its
    groups' default (``group_credentials.default_for``)."""
    row = conn.execute(sa.select(devices).where(devices.c.id == device_id)).first()
    if row is None:
        raise NotFound(f"device id {device_id} not found")
    return with_group_default(conn, box, device_record(conn, box, row, with_secrets=True))


def with_group_default(conn: Connection, box: SecretBox, record: DeviceRecord) -> DeviceRecord:
    """``record`` with its groups' default credential when it names none of its own."""
    if record.spec.credentials:
        return record
    default = default_for(conn, box, record.spec.groups)
    if default is None:
        return record
    spec = dataclasses.replace(record.spec, credentials=(default,))
    return dataclasses.replace(record, spec=spec)


def label_filter(kind: str, values: Sequence[str]) -> sa.ColumnElement[bool]:
    """Devices carrying any of ``values`` as a ``kind`` label."""
    sub = sa.select(device_labels.c.device_id).where(
        device_labels.c.kind == kind, device_labels.c.label.in_(list(values))
    )
    return devices.c.id.in_(sub)


def list_devices(
    conn: Connection,
    *,
    groups: Sequence[str],
    tags: Sequence[str],
    platform: str | None,
    name_glob: str | None,
    limit: int,
    cursor: int | None,
) -> Page:
    query = sa.select(devices).order_by(devices.c.id)
    if groups:
        query = query.where(label_filter("group", groups))
    if tags:
        query = query.where(label_filter("tag", tags))
    if platform:
        query = query.where(devices.c.platform == platform)
    if cursor is not None:
        query = query.where(devices.c.id > cursor)
    if name_glob:
        # Globs are matched in Python (portable); the SQL LIKE prefilter narrows the scan.
        prefix = name_glob.split("*", 1)[0].split("?", 1)[0].split("[", 1)[0]
        if prefix:
            esc = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            query = query.where(devices.c.name.like(esc + "%", escape="\\"))
    rows: list[Row[Any]] = []
    for row in conn.execute(query):
        if name_glob and not fnmatch.fnmatchcase(row.name, name_glob):
            continue
        rows.append(row)
        if len(rows) >= limit:
            break
    creds = credential_rows(conn, [r.id for r in rows]) if rows else {}
    items = [device_record(conn, None, r, with_secrets=False, cred_rows=creds[r.id]) for r in rows]
    next_cursor = items[-1].id if len(items) >= limit else None
    return Page(items=tuple(items), next_cursor=next_cursor)


def delete_device(conn: Connection, name: str) -> None:
    from netfleet.store.schema import tasks

    device_id = conn.execute(sa.select(devices.c.id).where(devices.c.name == name)).scalar()
    if device_id is None:
        raise NotFound(f"device {name!r} not found")
    active = conn.execute(
        sa.select(sa.func.count()).where(
            tasks.c.device_id == device_id,
            tasks.c.state.in_(("queued", "retrying", "running")),
        )
    ).scalar_one()
    if active:
        raise Conflict(f"device {name!r} has {active} queued or running task(s)")
    conn.execute(devices.delete().where(devices.c.id == device_id))


def list_groups(conn: Connection) -> list[tuple[str, int]]:
    """Every group name with its number of member devices, by name."""
    rows = conn.execute(
        sa.select(device_labels.c.label, sa.func.count())
        .where(device_labels.c.kind == "group")
        .group_by(device_labels.c.label)
        .order_by(device_labels.c.label)
    )
    return [(str(r[0]), int(r[1])) for r in rows]


def changed_since(conn: Connection, since: float) -> list[tuple[str, float]]:
    """Devices updated after ``since`` (name, updated_at): their sessions may be stale."""
    rows = conn.execute(
        sa.select(devices.c.name, devices.c.updated_at).where(devices.c.updated_at > since)
    )
    return [(str(r[0]), float(r[1])) for r in rows]

"""Many devices at once (an inventory import, an inventory sync): the new and the
unchanged ones in a few statements for the whole batch, where ``upsert_device`` takes
six or more per device.

Every device's credentials are resolved first, in the order given (``prepare``), so that
a named credential defined twice ends as its last definition, as one upsert after another
would leave it; the writes after that reuse the ids resolved there."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection

from netfleet.core.errors import InputError
from netfleet.core.models import DeviceSpec
from netfleet.store.crypto import SecretBox
from netfleet.store.records import ImportRow
from netfleet.store.schema import device_credentials, device_labels, device_slots, devices
from netfleet.store.sql.credentials import check_device_credential
from netfleet.store.sql.devices import (
    ID_CHUNK,
    CredentialIds,
    device_values,
    ids_by_name,
    label_rows,
    stored_as,
    upsert_device,
    validate_device,
)


@dataclass(frozen=True, slots=True)
class Prepared:
    """A checked device with its ``devices`` row values and credential links."""

    spec: DeviceSpec
    values: dict[str, Any]
    links: list[tuple[int, int]]


def prepare(
    conn: Connection, box: SecretBox, spec: DeviceSpec, now: float, known: CredentialIds
) -> Prepared:
    """``spec`` checked, then its credentials found or stored (``InputError`` if it is
    bad, before anything is written: a bad row leaves no credential changed)."""
    validate_device(spec)
    own = [(c, f"{spec.name}#{i}") for i, c in enumerate(spec.credentials)]
    if spec.jump_host is not None and spec.jump_host.credential is not None:
        own.append((spec.jump_host.credential, f"{spec.name}#jump"))
    for cred, auto in own:
        if not (cred.name and cred in known):  # resolved for an earlier row: it is good
            check_device_credential(conn, cred, auto)
    values, links = device_values(conn, box, spec, now, known)
    return Prepared(spec, values, links)


def insert_devices(conn: Connection, new: Sequence[Prepared], now: float) -> list[int]:
    """Insert ``new`` (distinct names, none a device yet) with their session slots,
    credential links and labels, as ``upsert_device`` would create each; their ids."""
    if not new:
        return []
    rows = [{"name": p.spec.name, "created_at": now, "updated_at": now, **p.values} for p in new]
    conn.execute(devices.insert(), rows)  # one executemany (multi-row VALUES on PostgreSQL)
    by_name = ids_by_name(conn, [p.spec.name for p in new])
    ids = [by_name[p.spec.name] for p in new]
    pairs = list(zip(ids, new, strict=True))
    conn.execute(
        device_slots.insert(),
        [{"device_id": i, "max_sessions": p.spec.max_sessions} for i, p in pairs],
    )
    links = [
        {"device_id": i, "position": pos, "credential_id": c}
        for i, p in pairs
        for pos, c in p.links
    ]
    if links:
        conn.execute(device_credentials.insert(), links)
    labels = [row for i, p in pairs for row in label_rows(i, p.spec)]
    if labels:
        conn.execute(device_labels.insert(), labels)
    return ids


def unchanged(conn: Connection, stored: dict[int, Prepared]) -> set[int]:
    """Ids of ``stored`` (device id: the device as given) equal to the device as stored:
    its row and its credential links."""
    rows: dict[int, Any] = {}
    links: dict[int, list[tuple[int, int]]] = {}
    ids = list(stored)
    for start in range(0, len(ids), ID_CHUNK):
        chunk = ids[start : start + ID_CHUNK]
        for r in conn.execute(sa.select(devices).where(devices.c.id.in_(chunk))):
            rows[r.id] = r._mapping
        query = sa.select(device_credentials).where(device_credentials.c.device_id.in_(chunk))
        for r in conn.execute(query):
            links.setdefault(r.device_id, []).append((r.position, r.credential_id))
    return {
        i
        for i, p in stored.items()
        if i in rows and stored_as(rows[i], links.get(i, []), p.values, p.links)
    }


def import_devices(
    conn: Connection, box: SecretBox, specs: Sequence[DeviceSpec], now: float
) -> list[ImportRow]:
    """Upsert each of ``specs``; a bad row does not stop the others. The new ones are
    inserted together in a savepoint and the unchanged ones found together; the rest
    (and all new ones, if that insert fails) are upserted each in a savepoint of its
    own, so that the report names a bad row."""
    known: CredentialIds = {}
    ready: dict[int, Prepared] = {}
    for i, spec in enumerate(specs):
        try:
            ready[i] = prepare(conn, box, spec, now, known)
        except InputError:
            continue  # reported below, by the row's own upsert
    exist = ids_by_name(conn, [spec.name for spec in specs if spec.name])
    counts = Counter(spec.name for spec in specs)
    once = {i: p for i, p in ready.items() if counts[p.spec.name] == 1}
    fresh = [i for i, p in once.items() if p.spec.name not in exist]
    stored = {exist[p.spec.name]: i for i, p in once.items() if p.spec.name in exist}
    same = {stored[d] for d in unchanged(conn, {d: ready[i] for d, i in stored.items()})}
    together: set[int] = set()
    if fresh:
        try:
            with conn.begin_nested():
                insert_devices(conn, [ready[i] for i in fresh], now)
            together = set(fresh)
        except (InputError, sa_exc.IntegrityError):
            pass  # rolled back: each row on its own below
    report = []
    for i, spec in enumerate(specs):
        if i in together:
            report.append(ImportRow(name=spec.name, action="created"))
            continue
        if i in same:
            report.append(ImportRow(name=spec.name, action="unchanged"))
            continue
        try:
            # a copy: what a savepoint rolled back must not be reused by the next rows
            with conn.begin_nested():
                _, done = upsert_device(conn, box, spec, now, dict(known))
            report.append(ImportRow(name=spec.name, action=done))  # type: ignore[arg-type]
        except InputError as exc:
            report.append(ImportRow(name=spec.name or "?", action="error", error=exc.message))
    return report

"""Many devices at once (an inventory import, a sync's first run): the new ones in a few
statements for the whole batch, where ``upsert_device`` takes six or more per device."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection

from netfleet.core.errors import InputError
from netfleet.core.models import DeviceSpec
from netfleet.store.crypto import SecretBox
from netfleet.store.records import ImportRow
from netfleet.store.schema import device_credentials, device_labels, device_slots, devices
from netfleet.store.sql.devices import (
    ID_CHUNK,
    CredentialIds,
    device_values,
    label_rows,
    upsert_device,
    validate_device,
)


def ids_by_name(conn: Connection, names: Sequence[str]) -> dict[str, int]:
    """``{name: id}`` for those of ``names`` that are devices."""
    found: dict[str, int] = {}
    names = list(names)
    for start in range(0, len(names), ID_CHUNK):
        chunk = names[start : start + ID_CHUNK]
        query = sa.select(devices.c.name, devices.c.id).where(devices.c.name.in_(chunk))
        found.update((r.name, int(r.id)) for r in conn.execute(query))
    return found


def insert_devices(
    conn: Connection,
    box: SecretBox,
    specs: Sequence[DeviceSpec],
    now: float,
    known: CredentialIds | None = None,
) -> list[int]:
    """Insert ``specs`` (distinct names, none a device yet) with their session slots,
    credential links and labels, as ``upsert_device`` would create each; their ids, in
    order. Every spec is checked before anything is written."""
    for spec in specs:
        validate_device(spec)
    known = {} if known is None else known
    rows: list[dict[str, Any]] = []
    links: list[list[tuple[int, int]]] = []
    for spec in specs:
        values, spec_links = device_values(conn, box, spec, now, known)
        rows.append({"name": spec.name, "created_at": now, "updated_at": now, **values})
        links.append(spec_links)
    if not rows:
        return []
    conn.execute(devices.insert(), rows)  # one executemany (multi-row VALUES on PostgreSQL)
    by_name = ids_by_name(conn, [spec.name for spec in specs])
    ids = [by_name[spec.name] for spec in specs]
    conn.execute(
        device_slots.insert(),
        [{"device_id": i, "max_sessions": s.max_sessions} for i, s in zip(ids, specs, strict=True)],
    )
    link_rows = [
        {"device_id": i, "position": p, "credential_id": c}
        for i, spec_links in zip(ids, links, strict=True)
        for p, c in spec_links
    ]
    if link_rows:
        conn.execute(device_credentials.insert(), link_rows)
    labels = [row for i, spec in zip(ids, specs, strict=True) for row in label_rows(i, spec)]
    if labels:
        conn.execute(device_labels.insert(), labels)
    return ids


def import_devices(
    conn: Connection, box: SecretBox, specs: Sequence[DeviceSpec], now: float
) -> list[ImportRow]:
    """Upsert each of ``specs``; a bad row does not stop the others. The valid new ones
    are inserted together, in a savepoint; if that fails, every row is upserted in a
    savepoint of its own, so that the report names the bad one."""
    exist = ids_by_name(conn, [spec.name for spec in specs if spec.name])
    fresh: dict[str, int] = {}
    for i, spec in enumerate(specs):
        if spec.name in exist or spec.name in fresh:
            continue
        try:
            validate_device(spec)
        except InputError:
            continue  # reported below, by the row's own upsert
        fresh[spec.name] = i
    together: set[int] = set()
    if fresh:
        try:
            with conn.begin_nested():
                insert_devices(conn, box, [specs[i] for i in fresh.values()], now, {})
            together = set(fresh.values())
        except (InputError, sa_exc.IntegrityError):
            pass  # rolled back: each row on its own below
    report = []
    for i, spec in enumerate(specs):
        if i in together:
            report.append(ImportRow(name=spec.name, action="created"))
            continue
        try:
            with conn.begin_nested():
                _, action = upsert_device(conn, box, spec, now)
            report.append(ImportRow(name=spec.name, action=action))  # type: ignore[arg-type]
        except InputError as exc:
            report.append(ImportRow(name=spec.name or "?", action="error", error=exc.message))
    return report

"""Inventory sources SQL: NetBox/Nautobot sources, their sync reports, and which
devices each source brought in (``device_sources``; disabled devices stay, with
their history, and are not targeted by jobs)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from netfleet.core.errors import Conflict, NotFound
from netfleet.core.models import DeviceSpec
from netfleet.store.crypto import SecretBox
from netfleet.store.records_integrations import (
    NewSource,
    SourceDevice,
    SourceRecord,
    SyncReportRecord,
)
from netfleet.store.schema import devices
from netfleet.store.schema_integrations import (
    device_sources,
    inventory_sources,
    inventory_sync_reports,
)
from netfleet.store.sql.devices import (
    ID_CHUNK,
    CredentialIds,
    credential_rows,
    device_record,
    ids_by_name,
    upsert_device,
)
from netfleet.store.sql.devices_bulk import Prepared, insert_devices, prepare


def _source(row: Row[Any], box: SecretBox | None) -> SourceRecord:
    m = row._mapping
    token = None
    if box is not None:
        token = box.decrypt(m["token_enc"], what=f"the token of source {m['name']!r}")
    return SourceRecord(
        id=m["id"],
        name=m["name"],
        kind=m["kind"],
        config=dict(m["config"]),
        interval_s=m["interval_s"],
        next_sync_at=m["next_sync_at"],
        last_sync_at=m["last_sync_at"],
        created_at=m["created_at"],
        updated_at=m["updated_at"],
        token=token,
    )


def _row(conn: Connection, ref: int | str) -> Row[Any] | None:
    col = inventory_sources.c.id if isinstance(ref, int) else inventory_sources.c.name
    return conn.execute(sa.select(inventory_sources).where(col == ref)).first()


def create_source(
    conn: Connection, box: SecretBox, source: NewSource, now: float, *, replace: bool
) -> SourceRecord:
    """Store a source; ``Conflict`` if the name exists (unless ``replace``)."""
    row = _row(conn, source.name)
    values = {
        "kind": source.kind,
        "config": source.config,
        "token_enc": box.encrypt(source.token),
        "interval_s": source.interval_s,
        "next_sync_at": now if source.interval_s else None,
        "updated_at": now,
    }
    if row is None:
        conn.execute(inventory_sources.insert().values(name=source.name, created_at=now, **values))
    elif not replace:
        raise Conflict(f"inventory source {source.name!r} exists already")
    else:
        conn.execute(
            inventory_sources.update().where(inventory_sources.c.id == row.id).values(**values)
        )
    return get_source(conn, None, source.name)


def get_source(conn: Connection, box: SecretBox | None, ref: int | str) -> SourceRecord:
    """One source (with its token decrypted only when ``box`` is given)."""
    row = _row(conn, ref)
    if row is None:
        raise NotFound(f"inventory source {ref!r} does not exist")
    return _source(row, box)


def list_sources(conn: Connection) -> list[SourceRecord]:
    rows = conn.execute(sa.select(inventory_sources).order_by(inventory_sources.c.name))
    return [_source(r, None) for r in rows]


def delete_source(conn: Connection, ref: int | str) -> None:
    """Delete a source; its devices stay, as manually managed ones."""
    row = _row(conn, ref)
    if row is None:
        raise NotFound(f"inventory source {ref!r} does not exist")
    conn.execute(device_sources.delete().where(device_sources.c.source_id == row.id))
    conn.execute(
        inventory_sync_reports.delete().where(inventory_sync_reports.c.source_id == row.id)
    )
    conn.execute(inventory_sources.delete().where(inventory_sources.c.id == row.id))


def source_devices(conn: Connection, source_id: int) -> list[SourceDevice]:
    """The devices ``source_id`` brought in (secrets blanked), disabled ones too; their
    credentials are read for all of them at once, not per device."""
    rows = conn.execute(
        sa.select(devices, device_sources.c.disabled_at)
        .select_from(devices.join(device_sources, device_sources.c.device_id == devices.c.id))
        .where(device_sources.c.source_id == source_id)
        .order_by(devices.c.name)
    ).all()
    creds = credential_rows(conn, [r.id for r in rows])
    return [
        SourceDevice(r.name, r.disabled_at is not None, device_record(conn, None, r,
                     with_secrets=False, cred_rows=creds[r.id]))
        for r in rows
    ]  # fmt: skip


def owners(conn: Connection, names: Sequence[str]) -> dict[str, str]:
    """``{device name: source name}`` for those of ``names`` that exist, ``""`` for a
    device no source brought in."""
    out: dict[str, str] = {}
    names = list(names)
    for start in range(0, len(names), ID_CHUNK):
        rows = conn.execute(
            sa.select(devices.c.name, inventory_sources.c.name.label("source"))
            .select_from(
                devices.outerjoin(
                    device_sources, device_sources.c.device_id == devices.c.id
                ).outerjoin(inventory_sources, inventory_sources.c.id == device_sources.c.source_id)
            )
            .where(devices.c.name.in_(names[start : start + ID_CHUNK]))
        )
        out.update({r.name: r.source or "" for r in rows})
    return out


def apply_sync(
    conn: Connection,
    box: SecretBox,
    source_id: int,
    *,
    writes: Sequence[tuple[DeviceSpec, str]],
    disables: Sequence[tuple[str, str]],
    now: float,
) -> None:
    """Upsert ``writes`` (spec, upstream id) as devices of ``source_id`` (enabled), and
    disable ``disables`` (name, reason). The devices that do not exist yet (all of them
    on a first sync) are inserted together; the others one by one."""
    known: CredentialIds = {}
    ready = [(prepare(conn, box, spec, now, known), upstream_id) for spec, upstream_id in writes]
    exist = ids_by_name(conn, [spec.name for spec, _ in writes])
    fresh: dict[str, tuple[Prepared, str]] = {}
    others: list[tuple[DeviceSpec, str]] = []
    for p, upstream_id in ready:
        if p.spec.name in exist or p.spec.name in fresh:
            others.append((p.spec, upstream_id))
        else:
            fresh[p.spec.name] = (p, upstream_id)
    ids = insert_devices(conn, [p for p, _ in fresh.values()], now)
    if ids:
        conn.execute(
            device_sources.insert(),
            [
                {"device_id": i, "source_id": source_id, "upstream_id": upstream_id[:64]}
                for i, (_, upstream_id) in zip(ids, fresh.values(), strict=True)
            ],
        )
    for spec, upstream_id in others:
        device_id, _ = upsert_device(conn, box, spec, now, known)
        updated = conn.execute(
            device_sources.update()
            .where(device_sources.c.device_id == device_id)
            .values(source_id=source_id, upstream_id=upstream_id[:64], disabled_at=None,
                    disabled_reason=None)
        ).rowcount  # fmt: skip
        if not updated:
            conn.execute(
                device_sources.insert().values(
                    device_id=device_id, source_id=source_id, upstream_id=upstream_id[:64]
                )
            )
    for name, reason in disables:
        gone = conn.execute(sa.select(devices.c.id).where(devices.c.name == name)).scalar()
        if gone is None:
            continue
        conn.execute(
            device_sources.update()
            .where(device_sources.c.device_id == gone, device_sources.c.source_id == source_id)
            .values(disabled_at=now, disabled_reason=reason[:500])
        )


def record_report(
    conn: Connection,
    source_id: int,
    *,
    started_at: float,
    ok: bool,
    summary: str,
    error: str | None,
    requests: int,
    report: dict[str, Any],
    now: float,
) -> SyncReportRecord:
    """Store one sync's report; set the source's ``last_sync_at`` and next sync time."""
    new_id = conn.execute(
        inventory_sync_reports.insert()
        .values(source_id=source_id, started_at=started_at, finished_at=now, ok=ok,
                summary=summary, error=error, requests=requests, report=report)
        .returning(inventory_sync_reports.c.id)
    ).scalar_one()  # fmt: skip
    src = inventory_sources
    conn.execute(
        src.update()
        .where(src.c.id == source_id)
        .values(
            last_sync_at=now,
            lease_until=None,
            next_sync_at=sa.case((src.c.interval_s.is_(None), None), else_=now + src.c.interval_s),
        )
    )
    return reports(conn, source_id, limit=1, only=int(new_id))[0]


def reports(
    conn: Connection, source_id: int, *, limit: int, only: int | None = None
) -> list[SyncReportRecord]:
    r, s = inventory_sync_reports, inventory_sources
    query = (
        sa.select(r, s.c.name.label("source"))
        .select_from(r.join(s, s.c.id == r.c.source_id))
        .where(r.c.source_id == source_id)
        .order_by(r.c.id.desc())
        .limit(limit)
    )
    if only is not None:
        query = query.where(r.c.id == only)
    return [
        SyncReportRecord(
            id=row.id,
            source=row.source,
            started_at=row.started_at,
            finished_at=row.finished_at,
            ok=bool(row.ok),
            summary=row.summary,
            error=row.error,
            requests=row.requests,
            report=dict(row.report),
        )
        for row in conn.execute(query)
    ]


def claim_due(conn: Connection, *, postgres: bool, now: float, lease_s: float) -> list[str]:
    """Names of scheduled sources due now, leased for ``lease_s`` (one syncer each)."""
    s = inventory_sources
    query = sa.select(s.c.id, s.c.name).where(
        s.c.interval_s.is_not(None),
        s.c.next_sync_at <= now,
        sa.or_(s.c.lease_until.is_(None), s.c.lease_until < now),
    )
    if postgres:
        query = query.with_for_update(skip_locked=True)
    rows = conn.execute(query).all()
    if rows:
        conn.execute(
            s.update().where(s.c.id.in_([r.id for r in rows])).values(lease_until=now + lease_s)
        )
    return [r.name for r in rows]


def disabled_devices() -> sa.Select[Any]:
    """The ids of disabled devices (for target resolution)."""
    return sa.select(device_sources.c.device_id).where(device_sources.c.disabled_at.is_not(None))


def disabled_names(conn: Connection, names: Sequence[str]) -> dict[str, str]:
    """``{name: reason}`` for those of ``names`` that are disabled."""
    rows = conn.execute(
        sa.select(devices.c.name, device_sources.c.disabled_reason)
        .select_from(devices.join(device_sources, device_sources.c.device_id == devices.c.id))
        .where(devices.c.name.in_(list(names)), device_sources.c.disabled_at.is_not(None))
    )
    return {r.name: r.disabled_reason or "disabled" for r in rows}

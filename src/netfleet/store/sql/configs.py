"""SQL of configuration backups: versions (reverse-delta blobs), last attempts, retention.

A new version is stored only when its sha256 (of the normalised text) differs from the
latest. Storing it re-encodes the previous latest as a delta against the new text
(``netfleet.configs.compress.roll``) in the same transaction; reading version ``v``
applies the deltas from the nearest full version above it down to ``v``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from netfleet.configs.compress import (
    CHECKPOINT_EVERY,
    is_full,
    older_blob,
    pack_full,
    reconstruct,
    unpack,
)
from netfleet.core.errors import ConfigHistoryError, NotFound
from netfleet.store.schema import devices
from netfleet.store.schema_configs import config_backups, config_versions

cv = config_versions
_META = (
    cv.c.device,
    cv.c.version,
    cv.c.created_at,
    cv.c.job_id,
    cv.c.platform,
    cv.c.sha256,
    cv.c.size,
    cv.c.added,
    cv.c.removed,
)


@dataclass(frozen=True, slots=True)
class ConfigVersion:
    """One stored version of a device's configuration (``text`` when read whole)."""

    device: str
    version: int
    created_at: float
    job_id: int | None
    platform: str
    sha256: str
    size: int
    added: int
    removed: int
    text: str | None = None
    raw_enc: str | None = None
    """The encrypted unmasked text (``[masking] keep_raw``); decrypt through the façade."""

    def summary(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "created_at": self.created_at,
            "sha256": self.sha256,
            "size": self.size,
            "added": self.added,
            "removed": self.removed,
            "job_id": self.job_id,
        }


@dataclass(frozen=True, slots=True)
class NewVersion:
    """A checked configuration to store for ``device``."""

    device: str
    platform: str
    text: str
    sha256: str
    size: int
    added: int
    removed: int
    job_id: int | None
    raw_enc: str | None = None


@dataclass(frozen=True, slots=True)
class BackupState:
    """The last backup attempt of a device (``None`` fields: never attempted/succeeded)."""

    device: str
    attempt_at: float | None
    ok: bool | None
    error: str | None
    job_id: int | None
    ok_at: float | None
    latest_version: int | None


def _version(row: Any, text: str | None = None) -> ConfigVersion:
    return ConfigVersion(
        device=row.device,
        version=row.version,
        created_at=row.created_at,
        job_id=row.job_id,
        platform=row.platform,
        sha256=row.sha256,
        size=row.size,
        added=row.added,
        removed=row.removed,
        text=text,
        raw_enc=getattr(row, "raw_enc", None),
    )


def latest_row(conn: Connection, device: str, *, lock: bool = False) -> Any:
    """The latest version's row (with its full blob), or None."""
    query = sa.select(*_META, cv.c.id, cv.c.blob, cv.c.raw_enc).where(
        cv.c.device == device, cv.c.is_latest.is_(True)
    )
    if lock and conn.dialect.name == "postgresql":
        query = query.with_for_update()
    return conn.execute(query).first()


def latest(conn: Connection, device: str) -> ConfigVersion | None:
    """The latest version with its text, or None when the device has none."""
    row = latest_row(conn, device)
    if row is None:
        return None
    return _version(row, unpack(row.blob))


def _deltas_below(conn: Connection, device: str, version: int) -> int:
    """How many delta versions lie directly below ``version``."""
    rows = conn.execute(
        sa.select(cv.c.is_full)
        .where(cv.c.device == device, cv.c.version < version)
        .order_by(cv.c.version.desc())
        .limit(CHECKPOINT_EVERY)
    ).all()
    run = 0
    for row in rows:
        if row.is_full:
            break
        run += 1
    return run


@dataclass(frozen=True, slots=True)
class Head:
    """The latest version of a device, as ``store_version`` builds on it."""

    id: int
    version: int
    sha256: str
    blob: bytes
    deltas_below: int
    """Delta versions directly below it (a full checkpoint is due at CHECKPOINT_EVERY)."""


def head(conn: Connection, device: str) -> Head | None:
    """The latest version of ``device`` with its full blob, or None."""
    row = latest_row(conn, device)
    if row is None:
        return None
    below = _deltas_below(conn, device, row.version)
    return Head(row.id, row.version, row.sha256, row.blob, below)


def encode(head: Head | None, text: str, *, previous: str | None = None) -> tuple[bytes, bytes]:
    """(full blob of ``text``, new blob of ``head``'s version): the reverse-delta step of
    ``netfleet.configs.compress.roll``, reusing the stored blob. ``head``'s new blob is a
    delta, or full at the kept level (a checkpoint, or no smaller delta); b"" when there
    is no ``head``. ``previous``: ``head``'s text when the caller has unpacked it."""
    latest = pack_full(text)
    if head is None:
        return latest, b""
    old = unpack(head.blob) if previous is None else previous
    return latest, older_blob(old, text, run=head.deltas_below, stored=len(head.blob))


def store_version(
    conn: Connection,
    new: NewVersion,
    now: float,
    *,
    on: Head | None,
    blobs: tuple[bytes, bytes],
) -> ConfigVersion | None:
    """Insert ``new`` as the next version after ``on`` (None: the first) with ``blobs``
    from ``encode``; None (nothing written) when the latest is no longer ``on``."""
    query = sa.select(cv.c.id).where(cv.c.device == new.device, cv.c.is_latest.is_(True))
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()
    current = conn.execute(query).scalar()
    if current != (on.id if on is not None else None):
        return None
    number = 1 if on is None else on.version + 1
    latest_blob, previous_blob = blobs
    if on is not None:
        values: dict[str, Any] = {"is_latest": False}
        if previous_blob:
            values.update(blob=previous_blob, is_full=is_full(previous_blob))
        conn.execute(sa.update(cv).where(cv.c.id == on.id).values(**values))
    conn.execute(
        sa.insert(cv).values(
            device=new.device,
            version=number,
            created_at=now,
            job_id=new.job_id,
            platform=new.platform,
            sha256=new.sha256,
            size=new.size,
            added=new.added,
            removed=new.removed,
            is_latest=True,
            is_full=True,
            blob=latest_blob,
            raw_enc=new.raw_enc,
        )
    )
    return ConfigVersion(
        device=new.device,
        version=number,
        created_at=now,
        job_id=new.job_id,
        platform=new.platform,
        sha256=new.sha256,
        size=new.size,
        added=new.added,
        removed=new.removed,
        text=new.text,
    )


def note_attempt(
    conn: Connection,
    device: str,
    *,
    ok: bool,
    error: str | None,
    job_id: int | None,
    now: float,
    changed: bool = False,
) -> None:
    """Record the last backup attempt of ``device``; a good one ends a stale episode."""
    values: dict[str, Any] = {"attempt_at": now, "ok": ok, "error": error, "job_id": job_id}
    if ok:
        values["ok_at"] = now
        values["stale_notified_at"] = None
    updated = conn.execute(
        sa.update(config_backups)
        .where(config_backups.c.device == device)
        .values(**values, changes=config_backups.c.changes + (1 if changed else 0))
    ).rowcount
    if not updated:
        conn.execute(
            sa.insert(config_backups).values(device=device, **values, changes=1 if changed else 0)
        )


def get_version(conn: Connection, device: str, version: int) -> ConfigVersion:
    """Version ``version`` of ``device`` with its text; ``NotFound`` if absent."""
    rows = conn.execute(
        sa.select(*_META, cv.c.is_full, cv.c.blob, cv.c.raw_enc)
        .where(cv.c.device == device, cv.c.version >= version)
        .order_by(cv.c.version.asc())
        .limit(CHECKPOINT_EVERY + 1)
    ).all()
    if not rows or rows[0].version != version:
        raise NotFound(f"device {device!r} has no configuration version {version}")
    full = next((i for i, row in enumerate(rows) if row.is_full), None)
    if full is None:
        raise ConfigHistoryError(f"{device}: version {version} has no full text above it")
    text = reconstruct([rows[i].blob for i in range(full, -1, -1)])
    return _version(rows[0], text)


def list_versions(
    conn: Connection, device: str, limit: int, before: int | None
) -> list[ConfigVersion]:
    """Versions of ``device`` without texts, newest first (below ``before`` if given)."""
    query = sa.select(*_META).where(cv.c.device == device)
    if before is not None:
        query = query.where(cv.c.version < before)
    rows = conn.execute(query.order_by(cv.c.version.desc()).limit(limit)).all()
    return [_version(row) for row in rows]


def latest_number(conn: Connection, device: str) -> int | None:
    """The latest version number of ``device``, or None."""
    value = conn.execute(
        sa.select(cv.c.version).where(cv.c.device == device, cv.c.is_latest.is_(True))
    ).scalar()
    return None if value is None else int(value)


def device_exists(conn: Connection, device: str) -> bool:
    """Known in the inventory, or has stored versions."""
    found = conn.execute(sa.select(devices.c.id).where(devices.c.name == device)).first()
    if found is not None:
        return True
    return latest_number(conn, device) is not None


def latest_blobs(
    conn: Connection, after: str, limit: int, names: Sequence[str] | None = None
) -> list[tuple[str, int, bytes]]:
    """(device, version, full blob) of latest versions, by device name after ``after``."""
    query = sa.select(cv.c.device, cv.c.version, cv.c.blob).where(
        cv.c.is_latest.is_(True), cv.c.device > after
    )
    if names is not None:
        query = query.where(cv.c.device.in_(list(names)))
    rows = conn.execute(query.order_by(cv.c.device).limit(limit)).all()
    return [(row.device, row.version, row.blob) for row in rows]


def prune(conn: Connection, device: str, *, keep: int, older_than: float | None) -> int:
    """Retention for one device: drop versions beyond the newest ``keep`` (0 = any
    number) and those created before ``older_than``; the latest is always kept."""
    cond = [cv.c.device == device, cv.c.is_latest.is_(False)]
    deleted = 0
    if keep > 0:
        cut = conn.execute(
            sa.select(cv.c.version)
            .where(cv.c.device == device)
            .order_by(cv.c.version.desc())
            .offset(keep - 1)
            .limit(1)
        ).scalar()
        if cut is not None:
            deleted += conn.execute(sa.delete(cv).where(*cond, cv.c.version < cut)).rowcount
    if older_than is not None:
        deleted += conn.execute(sa.delete(cv).where(*cond, cv.c.created_at < older_than)).rowcount
    return deleted


def devices_with_versions(conn: Connection, after: str, limit: int) -> list[str]:
    """Device names that have versions, in name order after ``after``."""
    rows = conn.execute(
        sa.select(cv.c.device)
        .where(cv.c.is_latest.is_(True), cv.c.device > after)
        .order_by(cv.c.device)
        .limit(limit)
    ).all()
    return [row.device for row in rows]


def backup_states(conn: Connection) -> list[BackupState]:
    """Every inventory device with its last backup attempt and latest version number."""
    latest_v = (
        sa.select(cv.c.device, cv.c.version).where(cv.c.is_latest.is_(True)).subquery("latest_v")
    )
    cb = config_backups
    rows = conn.execute(
        sa.select(
            devices.c.name,
            cb.c.attempt_at,
            cb.c.ok,
            cb.c.error,
            cb.c.job_id,
            cb.c.ok_at,
            latest_v.c.version,
        )
        .select_from(devices)
        .outerjoin(cb, cb.c.device == devices.c.name)
        .outerjoin(latest_v, latest_v.c.device == devices.c.name)
        .order_by(devices.c.name)
    ).all()
    return [
        BackupState(
            device=row.name,
            attempt_at=row.attempt_at,
            ok=row.ok,
            error=row.error,
            job_id=row.job_id,
            ok_at=row.ok_at,
            latest_version=row.version,
        )
        for row in rows
    ]


def total_changes(conn: Connection) -> int:
    """New versions stored over all devices (the ``config_changes_total`` metric)."""
    value = conn.execute(sa.select(sa.func.coalesce(sa.func.sum(config_backups.c.changes), 0)))
    return int(value.scalar() or 0)


def stored_bytes(conn: Connection) -> tuple[int, int]:
    """(versions, bytes of blobs) over all devices."""
    row = conn.execute(
        sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(sa.func.length(cv.c.blob)), 0))
    ).one()
    return int(row[0]), int(row[1])

"""SQL of the backup status: every device's last attempt, changes counted, bytes stored."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from netfleet.store.schema import devices
from netfleet.store.schema_configs import config_backups, config_versions

cv = config_versions


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

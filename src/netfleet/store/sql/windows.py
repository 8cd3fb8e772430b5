"""Change window SQL: create or replace, list, read, delete."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from netfleet.core.errors import NotFound, ValidationError
from netfleet.jobs.windows import WindowSpec
from netfleet.store.records_changes import WindowRecord
from netfleet.store.schema_changes import change_windows

MAX_WINDOWS = 500


def _record(row: Row[Any]) -> WindowRecord:
    return WindowRecord(
        id=int(row.id),
        spec=WindowSpec.model_validate_json(row.spec),
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def put_window(conn: Connection, spec: WindowSpec, now: float) -> tuple[WindowRecord, bool]:
    """Create the window, or replace the one of that name; (record, created)."""
    text = spec.model_dump_json()
    row = conn.execute(
        sa.select(change_windows.c.id).where(change_windows.c.name == spec.name)
    ).first()
    if row is None:
        count = conn.execute(sa.select(sa.func.count()).select_from(change_windows)).scalar_one()
        if count >= MAX_WINDOWS:
            raise ValidationError(f"at most {MAX_WINDOWS} change windows; delete unused ones")
        conn.execute(
            change_windows.insert().values(
                name=spec.name, kind=spec.kind, spec=text, created_at=now, updated_at=now
            )
        )
        created = True
    else:
        conn.execute(
            change_windows.update()
            .where(change_windows.c.id == row.id)
            .values(kind=spec.kind, spec=text, updated_at=now)
        )
        created = False
    return get_window(conn, spec.name), created


def get_window(conn: Connection, name: str) -> WindowRecord:
    row = conn.execute(sa.select(change_windows).where(change_windows.c.name == name)).first()
    if row is None:
        raise NotFound(f"change window {name!r} not found")
    return _record(row)


def list_windows(conn: Connection) -> list[WindowRecord]:
    rows = conn.execute(sa.select(change_windows).order_by(change_windows.c.name))
    return [_record(r) for r in rows]


def delete_window(conn: Connection, name: str) -> None:
    done = conn.execute(change_windows.delete().where(change_windows.c.name == name)).rowcount
    if not done:
        raise NotFound(f"change window {name!r} not found")

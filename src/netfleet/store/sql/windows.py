"""Change window SQL: create or replace, list, read, delete; the windows that govern
a job (unscoped ones, and scoped ones whose groups or devices its targets match)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from netfleet.core.errors import NotFound, ValidationError
from netfleet.jobs.windows import Window, WindowSpec
from netfleet.store.records_changes import WindowRecord
from netfleet.store.schema import device_labels, tasks
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


def load_windows(
    conn: Connection,
    *,
    job_id: int | None = None,
    targets: Sequence[tuple[int, str]] | None = None,
) -> list[Window]:
    """The windows that govern a job (by id, or by its ``targets`` at submit); with
    neither, the windows that apply to every job (unscoped)."""
    return scope_windows(conn, all_windows(conn), job_id=job_id, targets=targets)


def all_windows(conn: Connection) -> list[Window]:
    rows = conn.execute(sa.select(change_windows.c.spec).order_by(change_windows.c.name))
    return [Window.of(WindowSpec.model_validate_json(r.spec)) for r in rows]


def scope_windows(
    conn: Connection,
    windows: Sequence[Window],
    *,
    job_id: int | None = None,
    targets: Sequence[tuple[int, str]] | None = None,
) -> list[Window]:
    """``windows`` less the scoped ones whose groups/devices the job does not touch."""
    if not any(w.spec.scoped for w in windows):
        return list(windows)
    if targets is not None:
        names = [n for _, n in targets]
        groups = groups_of(conn, [i for i, _ in targets])
    elif job_id is not None:
        query = sa.select(tasks.c.device_name).where(tasks.c.job_id == job_id)
        names = [r.device_name for r in conn.execute(query)]
        groups = groups_of(conn, job_id=job_id)
    else:
        return [w for w in windows if not w.spec.scoped]
    return [w for w in windows if w.spec.applies_to(names, groups)]


def groups_of(
    conn: Connection, device_ids: Sequence[int] = (), *, job_id: int | None = None
) -> list[str]:
    """The groups of these devices, or of a job's devices."""
    if job_id is not None:
        ids: Any = sa.select(tasks.c.device_id).where(tasks.c.job_id == job_id).scalar_subquery()
    else:
        ids = list(device_ids)
    rows = conn.execute(
        sa.select(device_labels.c.label)
        .where(device_labels.c.kind == "group", device_labels.c.device_id.in_(ids))
        .distinct()
        .order_by(device_labels.c.label)
    )
    return [r.label for r in rows]

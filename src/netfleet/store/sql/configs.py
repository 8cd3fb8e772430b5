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


_LATEST_SHA = sa.func.coalesce(
    sa.select(cv.c.sha256)
    .where(cv.c.device == sa.bindparam("device"), cv.c.is_latest.is_(True))
    .scalar_subquery(),
    "",
)
_HEAD = (
    sa.select(
        cv.c.id,
        cv.c.version,
        cv.c.sha256,
        cv.c.is_full,
        cv.c.is_latest,
        sa.case(
            (sa.and_(cv.c.is_latest.is_(True), cv.c.sha256 != sa.bindparam("sha")), cv.c.blob),
            else_=sa.null(),
        ).label("blob"),
    )
    .where(
        cv.c.device == sa.bindparam("device"),
        sa.or_(cv.c.is_latest.is_(True), sa.bindparam("sha") != _LATEST_SHA),
    )
    .order_by(cv.c.version.desc())
    .limit(CHECKPOINT_EVERY + 1)
)
"""The newest versions of a device: the latest (with its blob unless its sha256 is
``sha``) and, unless its sha256 is ``sha``, below it enough to count the deltas in a
row (an unchanged backup reads one row). Statements of the backup path are built
once: building one costs about ten times executing it."""


def head(conn: Connection, device: str, *, sha: str = "") -> Head | None:
    """The latest version of ``device`` with its full blob, or None. When its sha256 is
    ``sha`` nothing is built on it: its blob is ``b""`` and ``deltas_below`` 0."""
    rows = conn.execute(_HEAD, {"device": device, "sha": sha}).all()
    if not rows:
        return None
    top = rows[0]
    if not top.is_latest:  # pragma: no cover - versions only grow; read by the flag then
        row = latest_row(conn, device)
        below = _deltas_below(conn, device, row.version)
        return Head(row.id, row.version, row.sha256, row.blob, below)
    below = 0
    for row in rows[1:]:
        if row.is_full:
            break
        below += 1
    return Head(top.id, top.version, top.sha256, top.blob or b"", below)


def encode(
    head: Head | None,
    text: str,
    *,
    previous: str | None = None,
    script: list[str] | None = None,
) -> tuple[bytes, bytes]:
    """(full blob of ``text``, new blob of ``head``'s version): the reverse-delta step of
    ``netfleet.configs.compress.roll``, reusing the stored blob. ``head``'s new blob is a
    delta, or full at the kept level (a checkpoint, or no smaller delta); b"" when there
    is no ``head``. ``previous``: ``head``'s text when the caller has unpacked it;
    ``script``: ``delta_script(previous, text)`` when made already."""
    latest = pack_full(text)
    if head is None:
        return latest, b""
    old = unpack(head.blob) if previous is None else previous
    run, stored = head.deltas_below, len(head.blob)
    return latest, older_blob(old, text, run=run, stored=stored, script=script)


_LATEST_ID = sa.select(cv.c.id).where(
    cv.c.device == sa.bindparam("device"), cv.c.is_latest.is_(True)
)
_LATEST_ID_LOCKED = _LATEST_ID.with_for_update()
_RETIRE = (
    sa.update(cv)
    .where(cv.c.id == sa.bindparam("on_id"), cv.c.is_latest.is_(True))
    .values(is_latest=False)
)
"""The latest version stops being it, if it still is (no other backup came first)."""
_RETIRE_REWRITTEN = _RETIRE.values(blob=sa.bindparam("new_blob"), is_full=sa.bindparam("full"))
_INSERT = sa.insert(cv)


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
    latest_blob, previous_blob = blobs
    if on is None:
        query = _LATEST_ID_LOCKED if conn.dialect.name == "postgresql" else _LATEST_ID
        if conn.execute(query, {"device": new.device}).scalar() is not None:
            return None
    elif previous_blob:
        retired = conn.execute(
            _RETIRE_REWRITTEN,
            {"on_id": on.id, "new_blob": previous_blob, "full": is_full(previous_blob)},
        )
        if retired.rowcount != 1:
            return None
    elif conn.execute(_RETIRE, {"on_id": on.id}).rowcount != 1:
        return None
    number = 1 if on is None else on.version + 1
    version = ConfigVersion(
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
    conn.execute(
        _INSERT,
        {
            "device": new.device,
            "version": number,
            "created_at": now,
            "job_id": new.job_id,
            "platform": new.platform,
            "sha256": new.sha256,
            "size": new.size,
            "added": new.added,
            "removed": new.removed,
            "is_latest": True,
            "is_full": True,
            "blob": latest_blob,
            "raw_enc": new.raw_enc,
        },
    )
    return version


_cb = config_backups
_NOTE = (
    sa.update(_cb)
    .where(_cb.c.device == sa.bindparam("dev"))
    .values(
        attempt_at=sa.bindparam("now"),
        ok=sa.bindparam("good"),
        error=sa.bindparam("err"),
        job_id=sa.bindparam("job"),
        changes=_cb.c.changes + sa.bindparam("inc"),
    )
)
_NOTE_OK = _NOTE.values(ok_at=sa.bindparam("now"), stale_notified_at=None)
_NOTE_NEW = sa.insert(_cb)


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
    inc = 1 if changed else 0
    params = {"dev": device, "now": now, "good": ok, "err": error, "job": job_id, "inc": inc}
    if conn.execute(_NOTE_OK if ok else _NOTE, params).rowcount:
        return
    values: dict[str, Any] = {"attempt_at": now, "ok": ok, "error": error, "job_id": job_id}
    if ok:
        values["ok_at"] = now
    conn.execute(_NOTE_NEW, {"device": device, **values, "changes": inc})


@dataclass(frozen=True, slots=True)
class AttemptNote:
    """A good backup attempt of ``device`` to note (``note_good_attempts``)."""

    device: str
    job_id: int | None
    now: float
    changed: bool = False


def note_good_attempts(conn: Connection, notes: Sequence[AttemptNote]) -> None:
    """``note_attempt(ok=True)`` for each of ``notes`` in order, as one ``executemany``
    of the update; devices without a row yet get theirs one at a time."""
    params = [
        {"dev": n.device, "now": n.now, "good": True, "err": None, "job": n.job_id,
         "inc": 1 if n.changed else 0}
        for n in notes
    ]  # fmt: skip
    if len(params) == 1:
        n = notes[0]
        note_attempt(conn, n.device, ok=True, error=None, job_id=n.job_id, now=n.now,
                     changed=n.changed)  # fmt: skip
        return
    updated = conn.execute(_NOTE_OK, params)
    if conn.dialect.supports_sane_multi_rowcount and updated.rowcount == len(params):
        return
    names = sorted({n.device for n in notes})
    known = set(conn.execute(sa.select(_cb.c.device).where(_cb.c.device.in_(names))).scalars())
    if len(known) == len(names):
        return
    names_done: set[str] = set()
    # the update found no row of these: the first note of each inserts it, the others
    # update it (in order)
    for n in notes:
        if n.device in known:
            continue
        if n.device in names_done:
            note_attempt(conn, n.device, ok=True, error=None, job_id=n.job_id, now=n.now,
                         changed=n.changed)  # fmt: skip
            continue
        names_done.add(n.device)
        conn.execute(
            _NOTE_NEW,
            {"device": n.device, "attempt_at": n.now, "ok": True, "error": None,
             "job_id": n.job_id, "ok_at": n.now, "changes": 1 if n.changed else 0},
        )  # fmt: skip


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


_LATEST_IF_SHA = sa.select(cv.c.version).where(
    cv.c.device == sa.bindparam("device"),
    cv.c.is_latest.is_(True),
    cv.c.sha256 == sa.bindparam("sha"),
)


def latest_number_if(conn: Connection, device: str, sha: str) -> int | None:
    """The latest version number of ``device`` if its sha256 is ``sha``, else None."""
    value = conn.execute(_LATEST_IF_SHA, {"device": device, "sha": sha}).scalar()
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

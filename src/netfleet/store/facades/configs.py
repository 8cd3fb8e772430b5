"""Façade of configuration backups: ``store.configs``.

``record`` stores a checked configuration as a new version when its normalised text
changed (with the ``config_changed`` task event and retention, in one transaction);
``latest``, ``get``, ``list``, ``diff`` and ``search`` read the history; ``status``
lists failed and stale backups.
"""

from __future__ import annotations

import builtins
import dataclasses
import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy.engine import Connection

from netfleet.configs.compress import unpack
from netfleet.configs.diff import Diff
from netfleet.configs.sanity import PreparedConfig
from netfleet.core.errors import Conflict, NotFound, ValidationError
from netfleet.core.regex import compile_re2
from netfleet.store.database import Database
from netfleet.store.facades import Facade
from netfleet.store.facades.configs_batch import Later, WriteBatch
from netfleet.store.facades.configs_record import (  # re-exported: the façade's records
    Recorded,
    Retention,
    prepare,
    unchanged,
    unchanged_if,
    write,
)
from netfleet.store.sql import configs as sql
from netfleet.store.sql import configs_read as read_sql
from netfleet.store.sql import configs_status as status_sql
from netfleet.store.sql.configs import ConfigVersion, NewVersion
from netfleet.store.sql.configs_status import BackupState

MAX_PATTERN = 1024
_T = TypeVar("_T")
_SEARCH_PAGE = 200


@dataclass(frozen=True, slots=True)
class SearchHit:
    """One matching line of a device's latest configuration (``line`` is 1-based)."""

    device: str
    version: int
    line: int
    text: str


__all__ = ["Configs", "Recorded", "Retention", "SearchHit"]


def _name(device: str) -> str:
    if not device or len(device) > 255:
        raise ValidationError("a device name is 1..255 characters")
    return device


class Configs(Facade):
    """Configuration versions per device, their diffs, search, retention and status."""

    def __init__(self, db: Database) -> None:
        super().__init__(db)
        self._writes = WriteBatch(db)
        """Backup writes of concurrent ``record`` calls, one transaction per batch."""

    async def record(
        self,
        device: str,
        config: PreparedConfig | Callable[[], PreparedConfig],
        *,
        platform: str,
        job_id: int | None = None,
        task_id: int | None = None,
        worker_id: str = "",
        groups: Sequence[str] = (),
        raw: str | None = None,
        retention: Retention | None = None,
        expect: str | None = None,
    ) -> Recorded:
        """Store ``config`` as a new version if its sha256 differs from the latest's.

        ``config`` may be a function that checks and normalises a fetched text: it runs
        on the read thread, before the latest version is read there (one thread hop
        less; its ``NetfleetError`` is raised here). ``raw`` (the unmasked text) is
        kept encrypted. With ``task_id`` a changed config
        also records a ``config_changed`` event on that task.

        ``expect``: the sha256 the caller knows ``config`` has (the same text was
        recorded before and checked with the same platform rules). When the latest
        version has it, the backup is noted unchanged in one write, without calling
        ``config`` or reading on the read threads; otherwise as without it.
        """
        db = self._db
        _name(device)
        if expect is not None:
            note_if = functools.partial(
                unchanged_if,
                clock=db.clock,
                device=device,
                sha=expect,
                job_id=job_id,
                retention=retention,
            )
            number = await self._writes.run(_later_to(note_if))
            if number is not None:
                return Recorded(None, number, sha256=expect)
        raw_enc = db.box.encrypt(raw) if raw is not None else None
        what = f"store the configuration of {device}"
        for _ in range(5):
            # the latest version, the diff and the compression on the read threads: the
            # store thread only writes the result
            read = functools.partial(
                _head_and_blobs, device=device, config=config, platform=platform
            )
            ready, on, prepared = await db.read(read, what=what)
            config = ready  # made once: a retry reuses it
            if prepared is None:
                assert on is not None
                note = functools.partial(
                    unchanged, clock=db.clock, device=device, job_id=job_id, retention=retention
                )
                await self._writes.run(_later_to(note))
                return Recorded(None, on.version, sha256=on.sha256)
            diff, blobs = prepared
            added, removed = (
                (ready.normalised.count("\n"), 0) if diff is None else (diff.added, diff.removed)
            )
            new = NewVersion(
                device=device,
                platform=platform,
                text=ready.text,
                sha256=ready.sha256,
                size=ready.size,
                added=added,
                removed=removed,
                job_id=job_id,
                raw_enc=raw_enc,
            )

            op = functools.partial(
                write,
                clock=db.clock,
                new=new,
                on=on,
                blobs=blobs,
                diff=diff,
                task_id=task_id,
                worker_id=worker_id,
                groups=groups,
                retention=retention,
            )
            done: Recorded | None = await self._writes.run(_later_to(op))
            if done is not None:
                return done
        raise Conflict(f"{device}: the configuration history changed repeatedly while storing")

    async def record_failure(self, device: str, error: str, *, job_id: int | None = None) -> None:
        """Note a failed backup of ``device`` (listed by ``status``)."""
        db = self._db
        _name(device)

        def op(conn: Connection) -> None:
            sql.note_attempt(
                conn, device, ok=False, error=error[:2000], job_id=job_id, now=db.clock(conn)
            )

        await db.run(op, what=f"note the failed backup of {device}")

    async def latest(self, device: str) -> ConfigVersion | None:
        """The latest version of ``device`` with its ``text``, or None if it has none."""
        _name(device)
        return await self._db.read(
            lambda c: sql.latest(c, device), what=f"read the configuration of {device}"
        )

    async def get(self, device: str, version: int | str = "latest") -> ConfigVersion:
        """Version ``version`` (a number or ``latest``) with its text; ``NotFound``."""
        _name(device)
        number = _version_number(version)
        return await self._db.read(
            functools.partial(read_sql.version, device=device, number=number),
            what=f"read the configuration of {device}",
        )

    def raw_text(self, version: ConfigVersion) -> str | None:
        """The unmasked text kept for ``version``, or None (``[masking] keep_raw`` off)."""
        return self._db.box.decrypt(version.raw_enc, what="configuration")

    async def list(
        self, device: str, *, limit: int = 100, before: int | None = None
    ) -> builtins.list[ConfigVersion]:
        """Versions of ``device`` (without texts), newest first; ``NotFound`` if unknown."""
        _name(device)

        def op(conn: Connection) -> builtins.list[ConfigVersion]:
            items = sql.list_versions(conn, device, max(1, min(limit, 1000)), before)
            if not items and before is None and not sql.device_exists(conn, device):
                raise NotFound(f"device {device!r} not found")
            return items

        return await self._db.read(op, what=f"list versions of {device}")

    async def diff(
        self,
        device: str,
        from_version: int | str | None = None,
        to_version: int | str | None = None,
        *,
        hierarchical: bool = False,
    ) -> tuple[ConfigVersion, ConfigVersion, Diff]:
        """The diff between two versions (``to``: latest; ``from``: the one before ``to``),
        read and computed on the read threads."""
        _name(device)
        op = functools.partial(
            read_sql.diff,
            device=device,
            from_number=None if from_version is None else _version_number(from_version),
            to_number=None if to_version is None else _version_number(to_version),
            from_given=from_version is not None,
            hierarchical=hierarchical,
        )
        return await self._db.read(op, what=f"diff the configurations of {device}")

    async def search(
        self,
        pattern: str,
        *,
        regex: bool = False,
        limit: int = 1000,
        devices: Sequence[str] | None = None,
    ) -> tuple[builtins.list[SearchHit], bool]:
        """Lines of the latest configurations matching ``pattern`` (a substring, or an RE2
        regex: linear time), at most ``limit``; returns (hits, truncated)."""
        if not pattern or len(pattern) > MAX_PATTERN:
            raise ValidationError(f"a search pattern is 1..{MAX_PATTERN} characters")
        matcher = _matcher(pattern, regex)
        hits: builtins.list[SearchHit] = []
        after = ""
        names = None if devices is None else sorted(set(devices))
        while True:
            room = limit + 1 - len(hits)
            page, rows, last = await self._db.read(
                functools.partial(
                    _search_page, after=after, names=names, matcher=matcher, room=room
                ),
                what="search configurations",
            )
            hits.extend(page)
            if len(hits) > limit:
                return hits[:limit], True
            if rows < _SEARCH_PAGE:
                return hits, False
            after = last

    async def names(self) -> builtins.list[str]:
        """Names of the devices that have stored versions, in name order."""
        names: builtins.list[str] = []
        while True:
            page = await self._db.run(
                functools.partial(
                    sql.devices_with_versions, after=names[-1] if names else "", limit=500
                ),
                what="list devices with versions",
                write=False,
            )
            names.extend(page)
            if len(page) < 500:
                return names

    async def status(self) -> builtins.list[BackupState]:
        """Every inventory device with its last backup attempt."""
        return await self._db.run(status_sql.backup_states, what="read backup status", write=False)

    async def prune(self, retention: Retention) -> int:
        """Apply ``retention`` to every device; returns the versions deleted."""
        db = self._db
        total = 0
        after = ""
        while True:
            names = await db.run(
                functools.partial(sql.devices_with_versions, after=after, limit=500),
                what="list devices with versions",
                write=False,
            )
            for name in names:

                def op(conn: Connection, name: str = name) -> int:
                    now = db.clock(conn)
                    days = retention.days
                    cutoff = now - days * 86_400 if days > 0 else None
                    return sql.prune(conn, name, keep=retention.keep, older_than=cutoff)

                total += await db.run(op, what=f"apply retention to {name}")
            if len(names) < 500:
                return total
            after = names[-1]

    async def changes_total(self) -> int:
        """New versions stored after a device's first (``netfleet_config_changes_total``)."""
        return await self._db.run(
            status_sql.total_changes, what="count config changes", write=False
        )

    async def stored_bytes(self) -> tuple[int, int]:
        """(versions, bytes of compressed blobs) stored."""
        return await self._db.run(
            status_sql.stored_bytes, what="measure stored configs", write=False
        )


def _version_number(version: int | str) -> int | None:
    if isinstance(version, int):
        if version < 1:
            raise NotFound(f"no configuration version {version}")
        return version
    if version == "latest":
        return None
    if version.isdigit() and len(version) <= 9:
        return _version_number(int(version))
    raise NotFound(f"no configuration version {version!r}: give a number or 'latest'")


def _later_to(op: Callable[..., _T]) -> Callable[[Connection, Later], _T]:
    """``op(conn, later=later)``: its attempt note (and event) left to the batch's end."""
    return lambda conn, later: op(conn, later=later)


def _head_and_blobs(
    conn: Connection,
    device: str,
    config: PreparedConfig | Callable[[], PreparedConfig],
    platform: str,
) -> tuple[PreparedConfig, sql.Head | None, tuple[Diff | None, tuple[bytes, bytes]] | None]:
    """``config`` (made by it if a function), the latest version of ``device`` and,
    unless ``config`` has its digest, the diff from it and the blobs to store."""
    if not isinstance(config, PreparedConfig):
        config = config()
    on = sql.head(conn, device, sha=config.sha256)
    prepared = None
    if on is None or on.sha256 != config.sha256:
        prepared = prepare(on, config, platform, device)
    # its lines (used once, by prepare) need not stay in memory until the write is done
    return dataclasses.replace(config, lines=None), on, prepared


def _search_page(
    conn: Connection,
    after: str,
    names: Sequence[str] | None,
    matcher: Callable[[str], bool],
    room: int,
) -> tuple[builtins.list[SearchHit], int, str]:
    """(at most ``room`` matching lines, devices read, the last device's name) of the page
    of latest versions after ``after``."""
    rows = sql.latest_blobs(conn, after, _SEARCH_PAGE, names)
    hits: builtins.list[SearchHit] = []
    for name, version, blob in rows:
        for number, line in enumerate(unpack(blob).split("\n"), start=1):
            if matcher(line):
                hits.append(SearchHit(name, version, number, line))
                if len(hits) >= room:
                    return hits, len(rows), name
    return hits, len(rows), rows[-1][0] if rows else after


def _matcher(pattern: str, regex: bool) -> Callable[[str], bool]:
    if not regex:
        return lambda line: pattern in line
    try:
        compiled = compile_re2(pattern)
    except ValueError as exc:
        raise ValidationError(f"not a valid RE2 regular expression {pattern!r}: {exc}") from None
    return lambda line: compiled.search(line) is not None

"""Storing a backup for ``store.configs.record``: the diff and blobs (computed outside the
transaction), the write that checks nothing newer came first, the ``config_changed``
event and retention."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy.engine import Connection

from netfleet.configs.compress import apply_script, delta_script, unpack
from netfleet.configs.diff import Diff, unified_diff
from netfleet.configs.normalise import normalise, normaliser
from netfleet.configs.sanity import PreparedConfig
from netfleet.store.facades.configs_batch import Later
from netfleet.store.records import NewEvent
from netfleet.store.sql import configs as sql
from netfleet.store.sql import events as events_sql
from netfleet.store.sql.configs import ConfigVersion, NewVersion

MAX_EVENT_DIFF = 16 * 1024
"""The diff carried by a ``config_changed`` event is cut to this many characters."""


@dataclass(frozen=True, slots=True)
class Recorded:
    """What ``record`` did: the new version (None when unchanged) and its diff."""

    version: ConfigVersion | None
    latest: int
    diff: Diff | None = None
    sha256: str = ""
    """The sha256 of the latest version (the one stored, or the unchanged one)."""

    @property
    def changed(self) -> bool:
        return self.version is not None


@dataclass(frozen=True, slots=True)
class Retention:
    """Keep the newest ``keep`` versions (0 = any) and none older than ``days`` (0 = any)."""

    keep: int = 100
    days: float = 0.0


def unchanged(
    conn: Connection,
    *,
    clock: Callable[[Connection], float],
    device: str,
    job_id: int | None,
    retention: Retention | None,
    later: Later | None = None,
) -> None:
    """Note a backup that found no change (or leave the note to ``later``, the batch's
    end); age-based retention applies here too."""
    now = clock(conn)
    if later is None:
        sql.note_attempt(conn, device, ok=True, error=None, job_id=job_id, now=now)
    else:
        later.notes.append(sql.AttemptNote(device, job_id, now))
    if retention is not None and retention.days > 0:
        sql.prune(conn, device, keep=retention.keep, older_than=now - retention.days * 86_400)


def unchanged_if(
    conn: Connection,
    *,
    clock: Callable[[Connection], float],
    device: str,
    sha: str,
    job_id: int | None,
    retention: Retention | None,
    later: Later | None = None,
) -> int | None:
    """``unchanged`` when the latest version of ``device`` has the sha256 ``sha``: its
    number, else None (nothing written; the caller stores the config the long way)."""
    number = sql.latest_number_if(conn, device, sha)
    if number is not None:
        unchanged(conn, clock=clock, device=device, job_id=job_id, retention=retention, later=later)
    return number


def write(
    conn: Connection,
    *,
    clock: Callable[[Connection], float],
    new: NewVersion,
    on: sql.Head | None,
    blobs: tuple[bytes, bytes],
    diff: Diff | None,
    task_id: int | None,
    worker_id: str,
    groups: Sequence[str],
    retention: Retention | None,
    later: Later | None = None,
) -> Recorded | None:
    """Store ``new`` after ``on``, note the attempt, prune, record the event (or leave
    the note and the event to ``later``, written once for a batch of writes); None when
    another backup of the device came first (the caller starts again)."""
    now = clock(conn)
    version = sql.store_version(conn, new, now, on=on, blobs=blobs)
    if version is None:
        return None
    device = new.device
    if later is None:
        sql.note_attempt(
            conn, device, ok=True, error=None, job_id=new.job_id, now=now, changed=on is not None
        )
    else:
        later.notes.append(sql.AttemptNote(device, new.job_id, now, changed=on is not None))
    if retention is not None:
        days = retention.days
        cutoff = now - days * 86_400 if days > 0 else None
        # versions are numbered from 1 and only deleted: at most `number` of them exist
        if cutoff is not None or 0 < retention.keep < version.version:
            sql.prune(conn, device, keep=retention.keep, older_than=cutoff)
    if task_id is not None and diff is not None:
        event = changed_event(task_id, version, diff, groups)
        if later is None:
            events_sql.record_events(conn, worker_id, [event], now)
        else:
            later.events.append((worker_id, event))
    return Recorded(version, version.version, diff, version.sha256)


def prepare(
    on: sql.Head | None, config: PreparedConfig, platform: str, device: str
) -> tuple[Diff | None, tuple[bytes, bytes]]:
    """The diff from ``on`` (None for a first version) and the blobs to store."""
    diff = None
    previous = None
    script = None
    if on is not None:
        previous = unpack(on.blob)
        # the previous version as edits of the new one: its stored delta, and from the
        # new text's normalised lines its comparison text (one normalisation, not two)
        script = delta_script(previous, config.text)
        diff = unified_diff(
            _normalised(previous, config, platform, script),
            config.normalised,
            old_name=f"{device}@{on.version}",
            new_name=f"{device}@{on.version + 1}",
        )
    return diff, sql.encode(on, config.text, previous=previous, script=script)


def _normalised(previous: str, config: PreparedConfig, platform: str, script: list[str]) -> str:
    """``normalise(previous, platform)``, made from ``config``'s normalised lines and
    ``script`` (``previous`` as line edits of ``config.text``) where it can be."""
    lines = config.lines
    if lines is None or "\r" in previous or lines.normaliser is not normaliser(platform):
        return normalise(previous, platform)
    return lines.edited(apply_script(lines.outputs(), script, lines.normaliser.normalise_line))


def changed_event(
    task_id: int, version: ConfigVersion, diff: Diff, groups: Sequence[str]
) -> NewEvent:
    """The ``config_changed`` event (the ``config.changed`` shape of integrations)."""
    device = version.device
    message = f"{device}: configuration changed (+{diff.added} -{diff.removed})"
    return NewEvent(
        task_id=task_id,
        kind="config_changed",
        message=message,
        data={
            "type": "config.changed",
            "device": device,
            "groups": list(groups),
            "job_id": version.job_id,
            "version": version.version,
            "added": diff.added,
            "removed": diff.removed,
            "diff": diff.text[:MAX_EVENT_DIFF],
            "message": message,
        },
    )

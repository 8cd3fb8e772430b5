"""Reads of the configuration history that ``Database.read`` runs off the store thread:
a version by number (or the latest), and the diff of two versions computed in the same
read (decompressing, normalising and diffing are CPU work kept off the event loop)."""

from __future__ import annotations

from sqlalchemy.engine import Connection

from netfleet.configs.diff import Diff, config_diff, unified_diff
from netfleet.configs.normalise import normalise
from netfleet.core.errors import NotFound
from netfleet.store.sql import configs as sql
from netfleet.store.sql.configs import ConfigVersion


def missing(conn: Connection, device: str, number: int | None = None) -> NotFound:
    """The 404 for ``device`` (unknown, no backup yet, or no such version)."""
    if not sql.device_exists(conn, device):
        return NotFound(f"device {device!r} not found")
    if number is None:
        return NotFound(f"device {device!r} has no configuration backup yet")
    return NotFound(f"device {device!r} has no configuration version {number}")


def version(conn: Connection, device: str, number: int | None) -> ConfigVersion:
    """Version ``number`` (None: the latest) of ``device`` with its text; ``NotFound``."""
    if number is None:
        found = sql.latest(conn, device)
        if found is None:
            raise missing(conn, device)
        return found
    try:
        return sql.get_version(conn, device, number)
    except NotFound:
        raise missing(conn, device, number) from None


def diff(
    conn: Connection,
    device: str,
    from_number: int | None,
    to_number: int | None,
    *,
    from_given: bool,
    hierarchical: bool,
) -> tuple[ConfigVersion, ConfigVersion, Diff]:
    """The diff from version ``from_number`` to ``to_number`` (None: the latest); without
    ``from_given`` the version before ``to`` (or ``to`` itself for a first version)."""
    new = version(conn, device, to_number)
    if from_given:
        old = version(conn, device, from_number)
    elif new.version <= 1:
        old = new
    else:
        older = sql.list_versions(conn, device, 1, new.version)
        old = version(conn, device, older[0].version) if older else new
    assert old.text is not None
    assert new.text is not None
    a = normalise(old.text, old.platform)
    b = normalise(new.text, new.platform)
    if hierarchical:
        return old, new, config_diff(a, b, new.platform, hierarchical=True)
    old_name, new_name = f"{device}@{old.version}", f"{device}@{new.version}"
    return old, new, unified_diff(a, b, old_name=old_name, new_name=new_name)

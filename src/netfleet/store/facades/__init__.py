"""The store's façades: thin async callers of ``netfleet.store.sql``, one class per
table family, each reached as an attribute of ``SqlStore`` (``store.jobs``, ...).

A façade method validates and clamps its arguments, runs one ``netfleet.store.sql``
function (or a few, in one transaction) through ``Database.run``, and wakes the
workers when it made work ready. It writes no SQL itself.
"""

from __future__ import annotations

from netfleet.store.database import Database

MAX_ID = 2**63 - 1


class Facade:
    """A family's operations on the shared ``Database``."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._db.url!r})"


def clamp(value: int) -> int:
    """An id or cursor clamped to the 64-bit range (larger ones would overflow drivers)."""
    return max(-MAX_ID, min(value, MAX_ID))

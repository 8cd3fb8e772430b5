"""Settings of the database server that the queue depends on."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection


def autovacuum_off(conn: Connection) -> bool:
    """PostgreSQL with ``autovacuum = off``: the queue's tables and indexes keep every
    dead row version (several per task, one per session hold written), so claims and
    heartbeats read more pages the longer the store runs. False on SQLite."""
    if conn.dialect.name != "postgresql":
        return False
    return str(conn.execute(sa.text("SHOW autovacuum")).scalar()) == "off"

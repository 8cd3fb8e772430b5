"""The database server's settings the queue depends on (``autovacuum``)."""

from __future__ import annotations

import psycopg

from netfleet.store import SqlStore


async def test_autovacuum_off_reads_the_server_setting(store: SqlStore, store_url: str) -> None:
    if store_url.startswith("sqlite"):
        assert await store.autovacuum_off() is False
        return
    with psycopg.connect(store_url, autocommit=True) as conn:
        row = conn.execute("SHOW autovacuum").fetchone()
    assert row is not None
    assert await store.autovacuum_off() is (row[0] == "off")

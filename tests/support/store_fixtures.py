"""Store fixtures: every contract test runs on a SQLite file and on PostgreSQL.

PostgreSQL tests use a database ``netfleet_test_<random>`` created for this
test session (``tests.support.service.private_postgres``, dropped at the end) and
emptied before each test. Without a server they are skipped, unless
NETFLEET_REQUIRE_POSTGRES is set (CI).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import psycopg
import pytest

from netfleet.store import SqlStore, open_store
from tests.support.service import private_postgres
from tests.support.store import KEY


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session."""
    with private_postgres("netfleet_test") as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'netfleet.db'}"
    url: str = request.getfixturevalue("pg_url")
    with psycopg.connect(url, autocommit=True) as c:
        names = [
            r[0]
            for r in c.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
            if r[0] != "alembic_version"
        ]
        if names:
            c.execute(f"TRUNCATE {', '.join(names)} RESTART IDENTITY CASCADE")
    return url


@pytest.fixture
async def store(store_url: str) -> AsyncIterator[SqlStore]:
    st = await open_store(store_url, secret_key=KEY)
    try:
        yield st
    finally:
        await st.close()


@pytest.fixture
async def other_store(store: SqlStore, store_url: str) -> AsyncIterator[SqlStore]:
    """A second store on the same database (another worker process, in effect)."""
    st = await open_store(store_url, secret_key=KEY, migrate=False)
    try:
        yield st
    finally:
        await st.close()

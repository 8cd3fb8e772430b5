"""Schedule fixtures: a SQLite store with devices, a private PostgreSQL database."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from netfleet.store import SqlStore, open_store
from tests.support.schedules import KEY
from tests.support.service import private_postgres
from tests.support.store import add_devices


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqlStore]:
    st = await open_store(f"sqlite:///{tmp_path / 'sched.db'}", secret_key=KEY)
    await add_devices(st, "r1", "r2")
    try:
        yield st
    finally:
        await st.close()


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A private PostgreSQL database ``netfleet_sched_<random>``, dropped afterwards."""
    with private_postgres("netfleet_sched") as url:
        yield url

"""Schedule fixtures: a SQLite store with devices, a private PostgreSQL database."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import psycopg
import pytest
from sched_helpers import KEY, add_devices

from netfleet.store import SqlStore, open_store

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


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
    try:
        admin = psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        if os.environ.get("NETFLEET_REQUIRE_POSTGRES"):
            pytest.fail(f"PostgreSQL required but unreachable: {exc}")
        pytest.skip(f"PostgreSQL unreachable: {exc}")
    name = f"netfleet_sched_{uuid.uuid4().hex[:12]}"
    admin.execute(f"CREATE DATABASE {name}")
    try:
        yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    finally:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.close()

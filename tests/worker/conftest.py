"""Fixtures for the worker tests: databases (SQLite file, fresh PostgreSQL) and fleets."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from worker_harness import (
    Fleet,
    create_pg_database,
    drop_pg_database,
    shared_pg_available,
)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'netfleet.db'}"


@pytest.fixture
def pg_url() -> Iterator[str]:
    if not shared_pg_available():
        pytest.skip("PostgreSQL is not reachable at 127.0.0.1:5432")
    url = create_pg_database()
    try:
        yield url
    finally:
        drop_pg_database(url)


@pytest.fixture
def fleet_factory() -> Iterator[list[Fleet]]:
    """Fleets made by a test; every worker process is killed at the end."""
    fleets: list[Fleet] = []
    try:
        yield fleets
    finally:
        for fleet in fleets:
            fleet.close()

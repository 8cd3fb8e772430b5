"""Fixtures for the worker tests: databases (SQLite file, fresh PostgreSQL) and fleets."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.service import private_postgres
from tests.support.worker import Fleet


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'netfleet.db'}"


@pytest.fixture
def pg_url() -> Iterator[str]:
    with private_postgres("nf_worker") as url:
        yield url


@pytest.fixture
def fleet_factory() -> Iterator[list[Fleet]]:
    """Fleets made by a test; every worker process is killed at the end."""
    fleets: list[Fleet] = []
    try:
        yield fleets
    finally:
        for fleet in fleets:
            fleet.close()

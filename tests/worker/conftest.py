"""Fixtures for the worker tests: databases (SQLite file, fresh PostgreSQL) and fleets."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from netfleet.store import SqlStore
from netfleet_sim import Simulator
from tests.support.service import private_postgres
from tests.support.worker import Fleet, import_sim_devices, open_test_store


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


@pytest.fixture
async def empty_store(sqlite_url: str) -> AsyncIterator[SqlStore]:
    """A SQLite store with no devices."""
    opened = await open_test_store(sqlite_url)
    try:
        yield opened
    finally:
        await opened.close()


@pytest.fixture
async def store(tmp_path: Path, sqlite_url: str, sim: Simulator) -> AsyncIterator[SqlStore]:
    """A SQLite store holding the module's simulated fleet (its own ``sim`` fixture)."""
    sim.write_inventory(tmp_path / "inv.yaml")
    opened = await open_test_store(sqlite_url)
    await import_sim_devices(opened, tmp_path / "inv.yaml")
    try:
        yield opened
    finally:
        await opened.close()

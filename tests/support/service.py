"""Helpers shared by several test directories.

``service_settings``: settings for a service on a private SQLite file with short
timeouts; ``service_store``: its store; ``role_tokens``: one API token per role;
``private_postgres``: a throw-away PostgreSQL database.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import psycopg
import pytest
from cryptography.fernet import Fernet

from netfleet.core.settings import (
    ConnectSettings,
    DatabaseSettings,
    ServiceSettings,
    Settings,
    WorkerSettings,
)
from netfleet.store import SqlStore, open_store

PG_HOST = "postgresql://postgres@127.0.0.1:5432"


def service_settings(tmp_path: Path, **service: Any) -> Settings:
    """A service on ``tmp_path/netfleet.db``; session logs in ``tmp_path/sessions``."""
    return Settings(
        database=DatabaseSettings(url=f"sqlite:///{tmp_path / 'netfleet.db'}"),
        service=ServiceSettings(key_file=tmp_path / "secret.key", **service),
        connect=ConnectSettings(
            known_hosts=tmp_path / "known_hosts",
            tcp_timeout_seconds=5,
            handshake_timeout_seconds=5,
            auth_timeout_seconds=5,
            prompt_timeout_seconds=5,
            session_log_dir=tmp_path / "sessions",
        ),
        worker=WorkerSettings(
            concurrency=20,
            heartbeat_seconds=0.5,
            lease_seconds=10,
            poll_seconds=0.1,
            drain_timeout_seconds=5,
            timeout_seconds=10,
        ),
    )


@asynccontextmanager
async def service_store(settings: Settings) -> AsyncIterator[SqlStore]:
    """The (migrated) store of ``settings`` with a fresh secret key, closed afterwards."""
    store = await open_store(
        settings.database.url, settings=settings, secret_key=Fernet.generate_key()
    )
    try:
        yield store
    finally:
        await store.close()


async def role_tokens(store: SqlStore) -> dict[str, str]:
    """A new token ``t-<role>`` for each of viewer, operator and admin, by role."""
    out = {}
    for role in ("viewer", "operator", "admin"):
        _, out[role] = await store.tokens.create(f"t-{role}", role)
    return out


@contextmanager
def private_postgres(prefix: str) -> Iterator[str]:
    """The URL of a new database ``<prefix>_<random>``, dropped afterwards.

    Skips the test when PostgreSQL is unreachable (fails if NETFLEET_REQUIRE_POSTGRES).
    """
    try:
        admin = psycopg.connect(f"{PG_HOST}/postgres", autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        if os.environ.get("NETFLEET_REQUIRE_POSTGRES"):
            pytest.fail(f"PostgreSQL required but unreachable: {exc}")
        pytest.skip(f"PostgreSQL unreachable: {exc}")
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin.execute(f"CREATE DATABASE {name}")
    try:
        yield f"{PG_HOST}/{name}"
    finally:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.close()

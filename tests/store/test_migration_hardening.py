"""Migration 0005 on a database from before it: tokens revoked earlier stay revoked."""

from __future__ import annotations

import hashlib

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from netfleet.store import open_store
from netfleet.store.database import _MIGRATIONS
from tests.support.store import KEY

OLD = "nf_revoked-before-the-upgrade-0000000000"


def _upgrade(url: str, revision: str) -> None:
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.begin() as conn:
            cfg = Config()
            cfg.set_main_option("script_location", str(_MIGRATIONS))
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)
            if revision == "0003":
                conn.execute(
                    sa.text(
                        "INSERT INTO api_tokens (name, role, token_hash, created_at, revoked_at) "
                        "VALUES ('old', 'admin', :h, 1.0, 2.0)"
                    ),
                    {"h": hashlib.sha256(OLD.encode()).hexdigest()},
                )
    finally:
        engine.dispose()


async def test_tokens_revoked_before_the_upgrade_stay_revoked(store_url: str) -> None:
    if store_url.startswith("postgresql"):
        # The shared test database is migrated already: start from an empty schema.
        engine = sa.create_engine(store_url.replace("postgresql://", "postgresql+psycopg://", 1))
        with engine.begin() as conn:
            conn.execute(sa.text("DROP SCHEMA public CASCADE"))
            conn.execute(sa.text("CREATE SCHEMA public"))
        engine.dispose()
    _upgrade(store_url, "0003")
    store = await open_store(store_url, secret_key=KEY)  # upgrades to head
    try:
        await store.tokens.create("admin2", "admin")
        assert await store.tokens.ensure("old", "admin", OLD) is None
        assert await store.tokens.verify(OLD) is None
    finally:
        await store.close()

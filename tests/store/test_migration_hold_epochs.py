"""Migration 0009 on a database with holds: they stay live through their new epoch row."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from netfleet.store import open_store
from netfleet.store.database import _MIGRATIONS
from tests.store.test_holds import counts, finish
from tests.support.store import KEY, add_devices, commands


def _migrate(url: str, revision: str, *, down: bool) -> None:
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.begin() as conn:
            cfg = Config()
            cfg.set_main_option("script_location", str(_MIGRATIONS))
            cfg.attributes["connection"] = conn
            (command.downgrade if down else command.upgrade)(cfg, revision)
    finally:
        engine.dispose()


async def test_holds_from_before_the_upgrade_stay_live(store_url: str) -> None:
    store = await open_store(store_url, secret_key=KEY)
    try:
        await add_devices(store, "r1", max_sessions=1)
        await store.jobs.submit(commands("r1"))
        (t1,) = await store.claims.claim("w1", 1, lease_s=30)
        await finish(store, "w1", t1, keep=True)
    finally:
        await store.close()
    _migrate(store_url, "0008", down=True)  # holds as they were: no epoch rows
    store = await open_store(store_url, secret_key=KEY)  # upgrades to head
    try:
        assert await counts(store, "r1") == (1, {"w1": 1})
        assert (await store.claims.reap()).holds_freed == 0
        await store.jobs.submit(commands("r1"))
        assert await store.claims.claim("w2", 1, lease_s=30) == []  # still counted
        (t2,) = await store.claims.claim("w1", 1, lease_s=30)
        assert t2.used_hold  # and live: w1 runs on its idle session
    finally:
        await store.close()

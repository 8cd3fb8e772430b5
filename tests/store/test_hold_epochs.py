"""Contract: hold epochs — one row per worker renews all its session holds."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from netfleet.store import SqlStore
from tests.store.test_holds import counts, finish, hold_left, set_hold_expiry
from tests.support.store import add_devices, commands


async def hold_rows(store: SqlStore) -> list[tuple[Any, ...]]:
    def op(conn: sa.Connection) -> list[tuple[Any, ...]]:
        rows = conn.execute(
            sa.text(
                "SELECT worker_id, device_id, held, expires_at, epoch, term FROM session_holds "
                "ORDER BY worker_id, device_id"
            )
        ).all()
        return [tuple(r) for r in rows]

    return await store.db.run(op, write=False)


async def keep_on(store: SqlStore, worker: str, names: list[str]) -> dict[str, int]:
    """Run one task per device of ``names`` on ``worker`` and keep every session."""
    await store.jobs.submit(commands(*names))
    ids: dict[str, int] = {}
    for t in await store.claims.claim(worker, len(names), lease_s=30):
        ids[t.device.name] = t.device_id
        await finish(store, worker, t, keep=True)
    assert sorted(ids) == sorted(names)
    return ids


async def test_heartbeat_renews_the_epoch_row_not_each_hold(store: SqlStore) -> None:
    names = [f"r{i}" for i in range(20)]
    await add_devices(store, *names, max_sessions=1)
    await keep_on(store, "w1", names)
    before = await hold_rows(store)
    assert len(before) == 20
    await set_hold_expiry(store, "w1", 10)
    await store.claims.heartbeat("w1", [], lease_s=30)
    assert await hold_left(store, "w1") >= 29
    assert await hold_rows(store) == before  # no hold row written
    assert (await store.claims.reap()).holds_freed == 0
    # Still live: the worker's next task on r0 runs on its idle session.
    await store.jobs.submit(commands("r0"))
    (t,) = await store.claims.claim("w1", 1, lease_s=30)
    assert t.used_hold


async def test_an_expired_epoch_restarts_in_a_new_term(store: SqlStore) -> None:
    await add_devices(store, "r1", "r2", max_sessions=1)
    ids = await keep_on(store, "w1", ["r1", "r2"])
    await set_hold_expiry(store, "w1", -1)
    # The late heartbeat does not revive the holds: it names their devices (the worker
    # closes those idle sessions) and the reaper frees them.
    beat = await store.claims.heartbeat("w1", [], lease_s=30)
    assert beat.close_idle == frozenset(ids.values())
    assert await hold_left(store, "w1") >= 29
    await store.jobs.submit(commands("r1"))
    assert await store.claims.claim("w1", 1, lease_s=30) == []
    assert (await store.claims.reap()).holds_freed == 2
    assert await counts(store, "r1") == (0, {})
    # New holds in the new term live.
    (t,) = await store.claims.claim("w1", 1, lease_s=30)
    await finish(store, "w1", t, keep=True)
    assert (await store.claims.reap()).holds_freed == 0
    assert await counts(store, "r1") == (1, {"w1": 1})


async def test_a_newer_epoch_frees_the_older_holds(store: SqlStore) -> None:
    await add_devices(store, "r1", max_sessions=1)
    await keep_on(store, "w1", ["r1"])
    beat = await store.claims.heartbeat("w1", [], lease_s=30, hold_epoch=1)
    assert beat.close_idle == frozenset()
    assert await counts(store, "r1") == (0, {})

"""Contract: session holds — idle pooled sessions counted in the device slots."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest
import sqlalchemy as sa

from netfleet.core.models import CommandResult
from netfleet.store import SqlStore
from netfleet.store.records import ClaimedTask, TaskOutcome
from tests.support.store import add_devices, commands, config

OK = TaskOutcome("succeeded", [CommandResult("show version", "Cisco IOS")])
KEEP = dataclasses.replace(OK, keep_session=True)


async def counts(store: SqlStore, device: str) -> tuple[int, dict[str, int]]:
    """(device_slots.running, {worker: held}) read straight from the tables."""

    def op(conn: sa.Connection) -> tuple[int, dict[str, int]]:
        running = conn.execute(
            sa.text(
                "SELECT s.running FROM device_slots s JOIN devices d ON d.id = s.device_id "
                "WHERE d.name = :n"
            ),
            {"n": device},
        ).scalar_one()
        held = conn.execute(
            sa.text(
                "SELECT h.worker_id, h.held FROM session_holds h "
                "JOIN devices d ON d.id = h.device_id WHERE d.name = :n"
            ),
            {"n": device},
        ).all()
        return running, {w: n for w, n in held if n}

    return await store.db.run(op, write=False)


async def finish(store: SqlStore, worker: str, task: ClaimedTask, *, keep: bool) -> None:
    await store.completions.complete(task.task_id, worker, task.attempt, KEEP if keep else OK)


async def test_kept_session_stays_counted_and_blocks_other_workers(store: SqlStore) -> None:
    await add_devices(store, "r1", max_sessions=1)
    for _ in range(3):
        await store.jobs.submit(commands("r1"))
    (t1,) = await store.claims.claim("w1", 5, lease_s=30)
    assert not t1.used_hold
    await finish(store, "w1", t1, keep=True)
    assert await counts(store, "r1") == (1, {"w1": 1})
    # The idle session still occupies the device's only session: w2 gets nothing.
    assert await store.claims.claim("w2", 5, lease_s=30) == []
    # w1 runs its next task on that idle session: the hold is consumed, no new slot.
    (t2,) = await store.claims.claim("w1", 5, lease_s=30)
    assert t2.used_hold
    assert await counts(store, "r1") == (1, {})
    await finish(store, "w1", t2, keep=False)
    assert await counts(store, "r1") == (0, {})
    (t3,) = await store.claims.claim("w2", 5, lease_s=30)
    assert not t3.used_hold


async def test_release_holds_frees_slots_and_is_clamped(store: SqlStore) -> None:
    await add_devices(store, "r1", max_sessions=2)
    for _ in range(4):
        await store.jobs.submit(commands("r1"))
    tasks = await store.claims.claim("w1", 2, lease_s=30)
    for t in tasks:
        await finish(store, "w1", t, keep=True)
    assert await counts(store, "r1") == (2, {"w1": 2})
    device_id = tasks[0].device_id
    assert await store.holds.release("w1", {device_id: 1}) == 1
    assert await counts(store, "r1") == (1, {"w1": 1})
    # Another worker's release (or a repeated one) never frees what it does not hold.
    assert await store.holds.release("w2", {device_id: 5}) == 0
    assert await store.holds.release("w1", {device_id: 5}) == 1
    assert await store.holds.release("w1", {device_id: 1}) == 0
    assert await counts(store, "r1") == (0, {})
    got = await store.claims.claim("w2", 5, lease_s=30)
    assert len(got) == 2
    assert not any(t.used_hold for t in got)


async def test_release_all_holds_of_a_worker(store: SqlStore) -> None:
    await add_devices(store, "r1", "r2", max_sessions=2)
    await store.jobs.submit(commands("r1", "r2"))
    for t in await store.claims.claim("w1", 5, lease_s=30):
        await finish(store, "w1", t, keep=True)
    assert await store.holds.release("w1") == 2
    assert await counts(store, "r1") == (0, {})
    assert await counts(store, "r2") == (0, {})


async def test_claim_uses_own_hold_and_free_slots(store: SqlStore) -> None:
    await add_devices(store, "r1", max_sessions=2)
    for _ in range(4):
        await store.jobs.submit(commands("r1"))
    (t1,) = await store.claims.claim("w1", 1, lease_s=30)
    await finish(store, "w1", t1, keep=True)
    # One hold and one free slot: w1 gets two tasks, one on its idle session.
    got = await store.claims.claim("w1", 5, lease_s=30)
    assert sorted(t.used_hold for t in got) == [False, True]
    assert await counts(store, "r1") == (2, {})
    assert await store.claims.claim("w2", 5, lease_s=30) == []


async def test_exclusive_task_with_holds(store: SqlStore) -> None:
    await add_devices(store, "r1", max_sessions=3)
    await store.jobs.submit(commands("r1"))
    (t1,) = await store.claims.claim("w1", 1, lease_s=30)
    await finish(store, "w1", t1, keep=True)
    cfg = await store.jobs.submit(config("r1"))
    # w2 may not: w1's idle session is open on the device.
    assert await store.claims.claim("w2", 5, lease_s=30) == []
    # w1 may: the only session counted is its own idle one.
    (excl,) = await store.claims.claim("w1", 5, lease_s=30)
    assert excl.job_id == cfg.id
    assert excl.exclusive
    assert excl.used_hold
    await store.jobs.submit(commands("r1"))
    assert await store.claims.claim("w1", 5, lease_s=30) == []
    assert await store.claims.claim("w2", 5, lease_s=30) == []
    await finish(store, "w1", excl, keep=True)
    assert await counts(store, "r1") == (1, {"w1": 1})
    # Exclusivity ended with the task; the hold stays w1's; w2 takes a free slot.
    (t2,) = await store.claims.claim("w2", 5, lease_s=30)
    assert not t2.used_hold
    assert await counts(store, "r1") == (2, {"w1": 1})


async def test_exclusive_task_waits_for_other_workers_holds(store: SqlStore) -> None:
    await add_devices(store, "r1", max_sessions=3)
    await store.jobs.submit(commands("r1"))
    (t1,) = await store.claims.claim("w1", 1, lease_s=30)
    await finish(store, "w1", t1, keep=True)
    await store.jobs.submit(commands("r1"))
    (t2,) = await store.claims.claim("w2", 1, lease_s=30)
    await finish(store, "w2", t2, keep=True)
    await store.jobs.submit(config("r1"))
    # Two idle sessions of two workers: nobody may run the exclusive task ...
    assert await store.claims.claim("w1", 5, lease_s=30) == []
    assert await store.claims.claim("w2", 5, lease_s=30) == []
    # ... until one of them closes its idle session.
    await store.holds.release("w2", {t2.device_id: 1})
    assert await store.claims.claim("w2", 5, lease_s=30) == []
    (excl,) = await store.claims.claim("w1", 5, lease_s=30)
    assert excl.exclusive
    assert excl.used_hold


async def set_hold_expiry(store: SqlStore, worker: str, seconds_from_now: float) -> None:
    """Move ``worker``'s holds (its epoch row) to expire ``seconds_from_now`` by the
    store's clock: time passing without waiting for it (a short real lease breaks on a
    loaded machine)."""

    def op(conn: sa.Connection) -> None:
        conn.execute(
            sa.text("UPDATE hold_epochs SET expires_at = :t WHERE worker_id = :w"),
            {"t": store.db.clock(conn) + seconds_from_now, "w": worker},
        )

    await store.db.run(op)


async def hold_left(store: SqlStore, worker: str) -> float:
    """Seconds the holds of ``worker`` (its epoch row) have left by the store's clock."""

    def op(conn: sa.Connection) -> float:
        soonest = conn.execute(
            sa.text("SELECT expires_at FROM hold_epochs WHERE worker_id = :w"),
            {"w": worker},
        ).scalar_one()
        return float(soonest) - store.db.clock(conn)

    return await store.db.run(op, write=False)


async def test_expired_holds_are_reaped_not_renewed(store: SqlStore) -> None:
    await add_devices(store, "r1", max_sessions=1)
    for _ in range(2):
        await store.jobs.submit(commands("r1"))
    (t1,) = await store.claims.claim("w1", 1, lease_s=30)
    await finish(store, "w1", t1, keep=True)
    # Renewed by heartbeats (without running tasks too) while the worker lives: a hold
    # nearly due is left at least half a lease after each heartbeat.
    for _ in range(3):
        await set_hold_expiry(store, "w1", 10)
        await store.claims.heartbeat("w1", [], lease_s=30)
        assert await hold_left(store, "w1") >= 15
        assert (await store.claims.reap()).holds_freed == 0
    assert await counts(store, "r1") == (1, {"w1": 1})
    # ... freed once the worker stops beating; a late heartbeat does not revive it.
    await set_hold_expiry(store, "w1", -1)
    await store.claims.heartbeat("w1", [], lease_s=30)
    assert await store.claims.claim("w1", 1, lease_s=30) == []  # an expired hold is not consumed
    result = await store.claims.reap()
    assert result.holds_freed == 1
    assert await counts(store, "r1") == (0, {})
    # The worker's late release after the reap frees nothing (no double free).
    assert await store.holds.release("w1", {t1.device_id: 1}) == 0
    (t2,) = await store.claims.claim("w2", 1, lease_s=30)
    assert not t2.used_hold
    assert await counts(store, "r1") == (1, {})


async def test_keep_after_expiry_does_not_revive_dead_holds(store: SqlStore) -> None:
    await add_devices(store, "r1", max_sessions=3)
    for _ in range(3):
        await store.jobs.submit(commands("r1"))
    (t1,) = await store.claims.claim("w1", 1, lease_s=0.2)
    (t2,) = await store.claims.claim("w1", 1, lease_s=30)
    await finish(store, "w1", t1, keep=True)
    await asyncio.sleep(0.3)  # t1's hold expired (not reaped yet)
    await finish(store, "w1", t2, keep=True)
    assert await counts(store, "r1") == (1, {"w1": 1})


async def test_lowering_max_sessions_below_holds(store: SqlStore) -> None:
    await add_devices(store, "r1", max_sessions=3)
    for _ in range(6):
        await store.jobs.submit(commands("r1"))
    running = await store.claims.claim("w1", 3, lease_s=30)
    for t in running:
        await finish(store, "w1", t, keep=True)
    await add_devices(store, "r1", max_sessions=1)  # the CHECK holds: 3 sessions counted
    assert await counts(store, "r1") == (3, {"w1": 3})
    assert await store.claims.claim("w2", 5, lease_s=30) == []
    await store.holds.release("w1", {running[0].device_id: 3})
    assert await counts(store, "r1") == (0, {})
    assert len(await store.claims.claim("w2", 5, lease_s=30)) == 1


async def test_fenced_completion_with_keep_changes_nothing(store: SqlStore) -> None:
    await add_devices(store, "r1", max_sessions=2)
    await store.jobs.submit(commands("r1"))
    (t1,) = await store.claims.claim("w1", 1, lease_s=0.1)
    await asyncio.sleep(0.2)
    await store.claims.reap()
    assert await counts(store, "r1") == (0, {})
    results = await store.completions.complete_many("w1", [(t1.task_id, t1.attempt, KEEP)])
    assert results == [None]
    assert await counts(store, "r1") == (0, {})


@pytest.mark.parametrize("keep", [True, False])
async def test_counts_never_negative(store: SqlStore, keep: bool) -> None:
    await add_devices(store, "r1", max_sessions=2)
    for _ in range(6):
        await store.jobs.submit(commands("r1"))
    for _ in range(3):
        for t in await store.claims.claim("w1", 5, lease_s=30):
            await finish(store, "w1", t, keep=keep)
    await store.holds.release("w1")
    await store.holds.release("w1")
    assert await counts(store, "r1") == (0, {})


async def test_heartbeat_names_devices_where_holds_block_an_exclusive_task(store: SqlStore) -> None:
    await add_devices(store, "r1", "r2", max_sessions=2)
    await store.jobs.submit(commands("r1", "r2"))
    ids = {}
    for t in await store.claims.claim("w1", 5, lease_s=30):
        ids[t.device.name] = t.device_id
        await finish(store, "w1", t, keep=True)
    beat = await store.claims.heartbeat("w1", [], lease_s=30)
    assert beat.close_idle == frozenset()
    await store.jobs.submit(commands("r1"))
    await store.jobs.submit(config("r2"))
    beat = await store.claims.heartbeat("w1", [], lease_s=30)
    # r2's exclusive task may be taken by w1 itself (its idle session is the only one).
    assert beat.close_idle == frozenset()
    # With another worker's idle session on r2 too, w1's must go for the exclusive task.
    (extra,) = await store.claims.claim("w2", 1, lease_s=30)
    assert extra.device.name == "r1"
    await store.jobs.submit(commands("r2"))
    for t in await store.claims.claim("w2", 5, lease_s=30):
        await finish(store, "w2", t, keep=True)
    beat = await store.claims.heartbeat("w1", [], lease_s=30)
    assert beat.close_idle == {ids["r2"]}


async def test_claim_sees_a_release_committed_while_it_waited_for_the_slot_lock(
    store: SqlStore, store_url: str
) -> None:
    """PostgreSQL re-checks a locked slot row that changed meanwhile, not the hold joined
    to it: a claim must not consume a hold a concurrent release already freed (the task
    would then run uncounted, and the device could go over its limit)."""
    import threading

    from netfleet.store.engine import parse_url
    from netfleet.store.sql import holds as holds_sql

    if not store.db.postgres:
        pytest.skip("SQLite runs one write transaction at a time: no such race")
    engine = sa.create_engine(parse_url(store_url)[0])
    try:
        await add_devices(store, "r1", max_sessions=2)
        for _ in range(2):
            await store.jobs.submit(commands("r1"))
        (t1,) = await store.claims.claim("w1", 1, lease_s=30)
        await finish(store, "w1", t1, keep=True)
        assert await counts(store, "r1") == (1, {"w1": 1})
        locked, commit = threading.Event(), threading.Event()

        def release() -> None:
            with engine.begin() as conn:
                holds_sql.release_holds(conn, postgres=True, worker_id="w1", holds=None)
                locked.set()
                commit.wait(60)

        releasing = asyncio.create_task(asyncio.to_thread(release))
        assert await asyncio.to_thread(locked.wait, 60)
        claiming = asyncio.create_task(store.claims.claim("w1", 1, lease_s=30))

        def waiting_for_lock() -> bool:
            with engine.connect() as conn:
                return bool(
                    conn.execute(
                        sa.text(
                            "SELECT count(*) FROM pg_stat_activity "
                            "WHERE wait_event_type = 'Lock' AND datname = current_database()"
                        )
                    ).scalar_one()
                )

        for _ in range(600):
            if await asyncio.to_thread(waiting_for_lock):
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError("the claim never waited for the slot lock")
        commit.set()
        await releasing
        (t2,) = await claiming
        assert not t2.used_hold  # the hold was gone: the task took a free slot
        assert await counts(store, "r1") == (1, {})
    finally:
        engine.dispose()

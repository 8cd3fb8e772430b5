"""Session holds: idle pooled sessions a worker keeps open, counted in the device slots.

``device_slots.running`` = tasks running on the device + holds of every worker.
A hold lives until ``expires_at`` (renewed by the worker's heartbeats while
live); an expired hold is dead: never renewed nor consumed, only freed (by
``reap_holds``). Every change of ``held`` locks the device's slot row first
(device order), so it cannot race with a claim of the same device.

Epochs: each hold carries the worker's hold epoch at the time it was made. A
worker that lost track of its holds (no heartbeat for half a lease: it closes
their idle sessions) starts a new epoch; its next heartbeat frees every hold of
an older epoch, so the store's count never keeps sessions the worker closed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from netfleet.store.schema import device_slots, session_holds, tasks
from netfleet.store.sql import statements as st

h = session_holds


def lock_slots(conn: Connection, postgres: bool, device_ids: list[int]) -> None:
    """Lock the slot rows of ``device_ids`` (sorted) in device order."""
    query = (
        sa.select(device_slots.c.device_id)
        .where(device_slots.c.device_id.in_(device_ids))
        .order_by(device_slots.c.device_id)
    )
    if postgres:
        query = query.with_for_update()
    conn.execute(query).all()


def _give_back(conn: Connection, per_device: Mapping[int, int]) -> None:
    """Free ``n`` counted sessions per device that were holds (slot rows already locked)."""
    rows = [{"p_device_id": d, "p_count": n} for d, n in sorted(per_device.items()) if n > 0]
    if rows:
        conn.execute(st.RELEASE_HELD_SLOTS, rows)


def keep_sessions(
    conn: Connection,
    *,
    postgres: bool,
    worker_id: str,
    kept: Mapping[int, tuple[int, float, int]],
    now: float,
) -> None:
    """Turn finished tasks' slots into holds of ``worker_id``: ``{device: (n, expires,
    epoch)}``.

    The caller has locked the slot rows. ``running`` stays; an expired hold row of
    the worker, or one of an older epoch, is freed first (it must not come back to
    life). Slots kept in an epoch older than the row's are freed instead (the worker
    stopped counting them)."""
    ids = sorted(kept)
    existing = {
        r.device_id: r
        for r in conn.execute(
            sa.select(h.c.device_id, h.c.held, h.c.expires_at, h.c.epoch).where(
                h.c.worker_id == worker_id, h.c.device_id.in_(ids)
            )
        )
    }
    dead: dict[int, int] = {}
    values: list[dict[str, Any]] = []
    for d in ids:
        n, expires, epoch = kept[d]
        row = existing.get(d)
        if row is not None and row.epoch > epoch:
            dead[d] = dead.get(d, 0) + n  # kept in a forgotten epoch: free it
            continue
        live = row is not None and row.expires_at >= now and row.epoch == epoch
        if row is not None and not live and row.held:
            dead[d] = dead.get(d, 0) + row.held
        values.append(
            {
                "worker_id": worker_id,
                "device_id": d,
                "held": n + (row.held if live and row is not None else 0),
                "expires_at": max(expires, row.expires_at) if live and row is not None else expires,
                "epoch": epoch,
            }
        )
    _give_back(conn, dead)
    if not values:
        return
    insert = (postgresql.insert if postgres else sqlite.insert)(h)
    conn.execute(
        insert.on_conflict_do_update(
            index_elements=[h.c.worker_id, h.c.device_id],
            set_={
                "held": insert.excluded.held,
                "expires_at": insert.excluded.expires_at,
                "epoch": insert.excluded.epoch,
            },
        ),
        values,
    )


def release_holds(
    conn: Connection,
    *,
    postgres: bool,
    worker_id: str,
    holds: Mapping[int, int] | None,
    epoch: int | None = None,
) -> int:
    """Give back up to ``n`` holds per device (all of them with ``None``); returns how many.

    Clamped at what the worker holds (in ``epoch``, when given), so a repeated or late
    release never frees another worker's, a running task's, or a newer epoch's slot."""
    query = sa.select(h.c.device_id).where(h.c.worker_id == worker_id)
    if epoch is not None:
        query = query.where(h.c.epoch == epoch)
    if holds is not None:
        query = query.where(h.c.device_id.in_(sorted(d for d, n in holds.items() if n > 0)))
    ids = sorted(r.device_id for r in conn.execute(query))
    if not ids:
        return 0
    lock_slots(conn, postgres, ids)
    mine = sa.and_(h.c.worker_id == worker_id, h.c.device_id.in_(ids))
    if epoch is not None:
        mine = sa.and_(mine, h.c.epoch == epoch)
    rows = conn.execute(sa.select(h.c.device_id, h.c.held).where(mine)).all()
    freed: dict[int, int] = {}
    for r in rows:
        want = r.held if holds is None else holds.get(r.device_id, 0)
        freed[r.device_id] = max(0, min(want, r.held))
    _give_back(conn, freed)
    taken = [
        {"p_worker_id": worker_id, "p_device_id": d, "p_count": n}
        for d, n in sorted(freed.items())
        if n
    ]
    if taken:
        conn.execute(st.CONSUME_HOLDS, taken)
    conn.execute(h.delete().where(h.c.worker_id == worker_id, h.c.held <= 0))
    return sum(freed.values())


def drop_old_epochs(conn: Connection, *, postgres: bool, worker_id: str, epoch: int) -> int:
    """Free ``worker_id``'s holds of epochs before ``epoch`` (it closed their sessions);
    returns how many sessions were freed."""
    old = sa.and_(h.c.worker_id == worker_id, h.c.epoch < epoch)
    ids = sorted(r.device_id for r in conn.execute(sa.select(h.c.device_id).where(old)))
    if not ids:
        return 0
    lock_slots(conn, postgres, ids)
    rows = conn.execute(
        h.delete().where(old, h.c.device_id.in_(ids)).returning(h.c.device_id, h.c.held)
    ).all()
    freed = {r.device_id: r.held for r in rows if r.held}
    _give_back(conn, freed)
    return sum(freed.values())


def renew_holds(
    conn: Connection, worker_id: str, now: float, lease_s: float, epoch: int = 0
) -> None:
    """Extend the live holds of ``worker_id`` in ``epoch`` that have less than half a lease
    left to a full lease (so each row is written about twice a lease, not at every
    heartbeat): after a heartbeat, every live hold lasts at least ``lease_s / 2`` more."""
    due = sa.and_(
        h.c.worker_id == worker_id,
        h.c.epoch == epoch,
        h.c.expires_at >= now,
        h.c.expires_at < now + lease_s / 2,
    )
    live = (
        sa.select(h.c.device_id)
        .where(due)
        .order_by(h.c.device_id)
        .with_for_update()  # row locks in device order (no-op on SQLite)
    )
    ids = [r.device_id for r in conn.execute(live)]
    if not ids:
        return
    conn.execute(h.update().where(due, h.c.device_id.in_(ids)).values(expires_at=now + lease_s))


def reap_holds(conn: Connection, *, postgres: bool, now: float, batch: int = 1000) -> int:
    """Free expired holds (their worker died or lost the database); returns how many."""
    expired = conn.execute(
        sa.select(h.c.worker_id, h.c.device_id).where(h.c.expires_at < now).limit(batch)
    ).all()
    if not expired:
        return 0
    lock_slots(conn, postgres, sorted({r.device_id for r in expired}))
    freed: dict[int, int] = {}
    for r in sorted(expired, key=lambda r: (r.device_id, r.worker_id)):
        row = conn.execute(
            h.delete()
            .where(h.c.worker_id == r.worker_id, h.c.device_id == r.device_id)
            .where(h.c.expires_at < now)
            .returning(h.c.held)
        ).first()
        if row is not None and row.held:
            freed[r.device_id] = freed.get(r.device_id, 0) + row.held
    _give_back(conn, freed)
    return sum(freed.values())


def blocking_exclusive(conn: Connection, worker_id: str, now: float) -> frozenset[int]:
    """Devices where ``worker_id``'s idle sessions (holds) keep a ready exclusive task
    waiting that the worker cannot take itself (its hold is not the only session counted)."""
    ready = (
        sa.select(tasks.c.id)
        .where(
            tasks.c.device_id == h.c.device_id,
            tasks.c.state.in_(st.READY),
            tasks.c.exclusive == sa.true(),
            tasks.c.run_at <= now,
        )
        .exists()
    )
    rows = conn.execute(
        sa.select(h.c.device_id)
        .join(device_slots, device_slots.c.device_id == h.c.device_id)
        .where(
            h.c.worker_id == worker_id,
            h.c.held > 0,
            h.c.expires_at >= now,
            sa.not_(sa.and_(device_slots.c.running == 1, h.c.held == 1)),
            ready,
        )
    )
    return frozenset(r.device_id for r in rows)

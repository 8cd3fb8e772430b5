"""Session holds: idle pooled sessions a worker keeps open, counted in the device slots.

``device_slots.running`` = tasks running on the device + holds of every worker.
A hold lives while its worker's ``hold_epochs`` row is live with the hold's epoch
and term (``live``): a heartbeat renews that one row, however many holds the
worker has. A dead hold is never renewed nor consumed, only freed (by
``reap_holds``). Every change of ``held`` locks the device's slot row first
(device order), so it cannot race with a claim of the same device; the epoch row
is written after the slot rows.

Epochs: each hold carries the worker's hold epoch at the time it was made. A
worker that lost track of its holds (no heartbeat for half a lease: it closes
their idle sessions) starts a new epoch; its next heartbeat frees every hold of
an older epoch, so the store's count never keeps sessions the worker closed.
Terms: an expired epoch row is never extended; it restarts with the next term,
so the holds it covered stay dead.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from netfleet.store.schema import device_slots, session_holds, tasks
from netfleet.store.schema_reliability import hold_epochs
from netfleet.store.sql import bulk
from netfleet.store.sql import statements as st

h = session_holds
e = hold_epochs


def live(now: Any) -> sa.ColumnElement[bool]:
    """The hold row ``h`` is live at ``now``: its worker's epoch row matches and lasts."""
    return (
        sa.select(e.c.worker_id)
        .where(
            e.c.worker_id == h.c.worker_id,
            e.c.epoch == h.c.epoch,
            e.c.term == h.c.term,
            e.c.expires_at >= now,
        )
        .exists()
    )


def _epoch_row(conn: Connection, worker_id: str) -> Any:
    return conn.execute(
        sa.select(e.c.epoch, e.c.term, e.c.expires_at).where(e.c.worker_id == worker_id)
    ).first()


def _insert_epoch(conn: Connection, postgres: bool, values: dict[str, Any]) -> bool:
    insert = (postgresql.insert if postgres else sqlite.insert)(e)
    done = conn.execute(insert.values(**values).on_conflict_do_nothing())
    return bool(done.rowcount)


def _start(
    conn: Connection, postgres: bool, worker_id: str, epoch: int, expires: float, now: float
) -> tuple[int, int] | None:
    """Make ``worker_id``'s epoch row live in ``epoch`` (a new row lasts until
    ``expires``); returns the (epoch, term) new holds are made in, or ``None`` when
    the row is in a newer epoch (the worker stopped counting these sessions)."""
    for _ in range(3):
        row = _epoch_row(conn, worker_id)
        if row is None:
            values = {"worker_id": worker_id, "epoch": epoch, "term": 0, "expires_at": expires}
            if _insert_epoch(conn, postgres, values):
                return epoch, 0
            continue
        if row.epoch > epoch:
            return None
        if row.epoch == epoch and row.expires_at >= now:
            return epoch, row.term
        done = conn.execute(
            e.update()
            .where(e.c.worker_id == worker_id, e.c.term == row.term, e.c.epoch == row.epoch)
            .values(epoch=epoch, term=row.term + 1, expires_at=max(expires, now))
        )
        if done.rowcount:
            return epoch, row.term + 1
    return None


def lock_slots(conn: Connection, postgres: bool, device_ids: list[int]) -> None:
    """Lock the slot rows of ``device_ids`` (sorted) in device order."""
    conn.execute(st.lock_slot_rows(postgres), {"p_ids": device_ids}).all()


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

    The caller has locked the slot rows. ``running`` stays; a dead hold row of the
    worker on the device is freed first (it must not come back to life). Slots kept
    in an epoch older than the worker's epoch row are freed instead (the worker
    stopped counting them). A missing or expired epoch row starts (a new term) and
    lasts until the latest ``expires``."""
    ids = sorted(kept)
    top = max(epoch for _, _, epoch in kept.values())
    current = _start(conn, postgres, worker_id, top, max(x for _, x, _ in kept.values()), now)
    existing = {
        r.device_id: r
        for r in conn.execute(
            sa.select(h.c.device_id, h.c.held, h.c.expires_at, h.c.epoch, h.c.term).where(
                h.c.worker_id == worker_id, h.c.device_id.in_(ids)
            )
        )
    }
    dead: dict[int, int] = {}
    values: list[dict[str, Any]] = []
    for d in ids:
        n, expires, epoch = kept[d]
        row = existing.get(d)
        if current is None or epoch < current[0]:
            dead[d] = dead.get(d, 0) + n  # kept in a forgotten epoch: free it
            continue
        alive = row is not None and (row.epoch, row.term) == current
        if row is not None and not alive and row.held:
            dead[d] = dead.get(d, 0) + row.held
        values.append(
            {
                "worker_id": worker_id,
                "device_id": d,
                "held": n + (row.held if alive and row is not None else 0),
                "expires_at": max(expires, row.expires_at)
                if alive and row is not None
                else expires,
                "epoch": current[0],
                "term": current[1],
            }
        )
    _give_back(conn, dead)
    if not values:
        return
    bulk.insert_rows(
        conn,
        h,
        values,
        conflict=("worker_id", "device_id"),
        update=("held", "expires_at", "epoch", "term"),
    )


def consume_holds(
    conn: Connection, postgres: bool, worker_id: str, counts: Mapping[int, int]
) -> None:
    """Take ``n`` from ``worker_id``'s hold on each device of ``counts`` (slot rows
    locked by the caller): one statement on PostgreSQL."""
    taken = sorted((d, n) for d, n in counts.items() if n)
    if not taken:
        return
    if postgres:
        conn.execute(
            st.CONSUME_HOLDS_PG,
            {
                "p_worker_id": worker_id,
                "p_ids": [d for d, _ in taken],
                "p_counts": [n for _, n in taken],
            },
        )
        return
    conn.execute(
        st.CONSUME_HOLDS,
        [{"p_worker_id": worker_id, "p_device_id": d, "p_count": n} for d, n in taken],
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
    consume_holds(conn, postgres, worker_id, freed)
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


def renew_epoch(
    conn: Connection, *, postgres: bool, worker_id: str, epoch: int, now: float, lease_s: float
) -> frozenset[int]:
    """Renew ``worker_id``'s epoch row to a full lease: one row write per heartbeat, for
    every live hold of the worker. An expired row restarts with the next term (its
    holds stay dead, for the reaper); returns the devices where the worker has dead
    holds, so it closes their idle sessions. (Old epochs: ``drop_old_epochs``.)"""
    until = now + lease_s
    renewed = conn.execute(
        e.update()
        .where(e.c.worker_id == worker_id, e.c.epoch == epoch, e.c.expires_at >= now)
        .values(expires_at=until)
    )
    if renewed.rowcount:
        # A hold made in a term that ended meanwhile (a completion that read the epoch
        # row just before a restart) is dead though the worker counts it: name it.
        dead_now = conn.execute(
            sa.select(h.c.device_id).where(
                h.c.worker_id == worker_id, h.c.held > 0, sa.not_(live(now))
            )
        )
        return frozenset(r.device_id for r in dead_now)
    row = _epoch_row(conn, worker_id)
    if row is None:
        values = {"worker_id": worker_id, "epoch": epoch, "term": 0, "expires_at": until}
        if _insert_epoch(conn, postgres, values):
            return frozenset()
        row = _epoch_row(conn, worker_id)
    if row is None or row.epoch > epoch:
        return frozenset()  # a heartbeat older than the worker's newest epoch
    conn.execute(
        e.update()
        .where(e.c.worker_id == worker_id)
        .values(epoch=epoch, term=row.term + 1, expires_at=until)
    )
    dead = conn.execute(sa.select(h.c.device_id).where(h.c.worker_id == worker_id, h.c.held > 0))
    return frozenset(r.device_id for r in dead)


def reap_holds(conn: Connection, *, postgres: bool, now: float, batch: int = 1000) -> int:
    """Free dead holds (their worker died or lost the database); returns how many."""
    expired = conn.execute(
        sa.select(h.c.worker_id, h.c.device_id).where(sa.not_(live(now))).limit(batch)
    ).all()
    if not expired:
        return 0
    lock_slots(conn, postgres, sorted({r.device_id for r in expired}))
    freed: dict[int, int] = {}
    for r in sorted(expired, key=lambda r: (r.device_id, r.worker_id)):
        row = conn.execute(
            h.delete()
            .where(h.c.worker_id == r.worker_id, h.c.device_id == r.device_id)
            .where(sa.not_(live(now)))
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
            live(now),
            sa.not_(sa.and_(device_slots.c.running == 1, h.c.held == 1)),
            ready,
        )
    )
    return frozenset(r.device_id for r in rows)

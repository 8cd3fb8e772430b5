"""Claims and lease renewal, each in one short transaction.

A claim picks ready tasks whose device has a free slot (so one busy device
never stalls the queue), locks them (PostgreSQL: ``FOR NO KEY UPDATE SKIP
LOCKED``; SQLite: the whole database through ``BEGIN IMMEDIATE``), locks the
slot rows in device order, takes the slots and marks the tasks running. The
slot row's CHECK constraints make an over-commit impossible even if this code
were wrong.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from netfleet.core.models import DeviceSpec
from netfleet.store.records import ClaimedTask, HeartbeatResult
from netfleet.store.schema import session_holds, task_events
from netfleet.store.sql import bulk
from netfleet.store.sql import statements as st
from netfleet.store.sql.holds import (
    blocking_exclusive,
    consume_holds,
    drop_old_epochs,
    live,
    renew_epoch,
)
from netfleet.store.sql.jobs import SpecCache, apply_transitions

DeviceLoader = Callable[[Connection, int, int], DeviceSpec]
"""(conn, device id, generation) -> DeviceSpec with decrypted credentials (cached)."""

MAX_WARM = 500
ROUNDS = 4


@dataclass(slots=True)
class _Slot:
    running: int
    max_sessions: int
    exclusive_held: bool
    generation: int
    held: int
    """Live idle sessions of the claiming worker (its holds), counted in ``running``."""
    consumed: int = 0
    """Holds consumed by this claim: the task runs on that idle session."""


def _candidates(
    conn: Connection, postgres: bool, worker_id: str, now: float, scan: int, warm: frozenset[int]
) -> list[Row[Any]]:
    params: dict[str, Any] = {"p_now": now, "p_scan": scan, "p_worker": worker_id}
    rows = list(conn.execute(st.candidates(postgres, False), params))
    if warm:
        seen = {r.id for r in rows}
        params = {**params, "p_warm": sorted(warm)}
        rows += [r for r in conn.execute(st.candidates(postgres, True), params) if r.id not in seen]
    rows.sort(key=lambda r: (-r.priority, r.device_id not in warm, r.run_at, r.id))
    return rows


def _pick(
    rows: Sequence[Row[Any]], slots: dict[int, _Slot], want: int
) -> list[tuple[Row[Any], bool]]:
    """Take slots in memory (the rows are locked) for up to ``want`` tasks, best first.

    A task on a device where the worker holds an idle session consumes that hold
    (the count stays: the idle session becomes the running task's); otherwise it
    needs a free slot. An exclusive task needs every counted session to be its
    own: none, or exactly one that is this worker's hold. Each pick says whether
    it used a hold.
    """
    picked: list[tuple[Row[Any], bool]] = []
    for r in rows:
        slot = slots.get(r.device_id)
        if slot is None or slot.exclusive_held:
            continue
        own = slot.held > 0
        if r.exclusive:
            if slot.running > 1 or slot.running != slot.held:
                continue
            slot.exclusive_held = True
        elif not own and slot.running >= slot.max_sessions:
            continue
        if own:
            slot.held -= 1
            slot.consumed += 1
        else:
            slot.running += 1
        picked.append((r, own))
        if len(picked) >= want:
            break
    return picked


def claim(
    conn: Connection,
    *,
    postgres: bool,
    worker_id: str,
    limit: int,
    lease_s: float,
    warm: Collection[int],
    now: float,
    specs: SpecCache,
    load_device: DeviceLoader,
) -> list[ClaimedTask]:
    """Claim up to ``limit`` tasks: priority first, then warm devices, then ``run_at``.

    Later rounds skip devices saturated by earlier ones. On PostgreSQL only the
    first round waits for slot locks (taken in device order); later rounds skip
    locked slot rows, so claims cannot deadlock with each other.
    """
    warm_set = frozenset(list(warm)[:MAX_WARM])
    if postgres:
        conn.execute(st.ORDERED_CLAIMS)
    claimed: list[ClaimedTask] = []
    changes: dict[int, dict[tuple[str, str], int]] = defaultdict(lambda: defaultdict(int))
    scan = max(2 * limit, 16)
    for round_no in range(ROUNDS):
        rows = _candidates(conn, postgres, worker_id, now, scan, warm_set)
        if not rows:
            break
        full = len(rows) >= scan
        slot_rows = conn.execute(
            st.lock_slots(postgres, round_no > 0),
            {"p_ids": sorted({r.device_id for r in rows}), "p_worker": worker_id, "p_now": now},
        )
        slots = {
            s.device_id: _Slot(
                s.running, s.max_sessions, bool(s.exclusive_held), s.generation, s.held
            )
            for s in slot_rows
        }
        if postgres and slots:
            _fresh_holds(conn, worker_id, now, slots)
        picked = _pick(rows, slots, limit - len(claimed))
        if picked:
            for r, _ in picked:
                changes[r.job_id][(r.state, "running")] += 1
            claimed += _take(
                conn, postgres, picked, slots, worker_id, lease_s, now, specs, load_device
            )
        if len(claimed) >= limit or not full:
            break
    if claimed:
        apply_transitions(conn, changes, now)
        bulk.insert_rows(conn, task_events, [_claim_event(t, worker_id, now) for t in claimed])
    return claimed


def _fresh_holds(conn: Connection, worker_id: str, now: float, slots: dict[int, _Slot]) -> None:
    """Re-read the worker's holds now that the slot rows are locked.

    PostgreSQL re-checks a ``FOR UPDATE`` row that changed while the claim waited for
    its lock, but not the hold joined to it: a release (or a heartbeat freeing an old
    epoch) committed meanwhile would leave a hold counted that is gone. Every change
    of a hold locks its slot row first, so this read is exact."""
    rows = conn.execute(
        sa.select(session_holds.c.device_id, session_holds.c.held).where(
            session_holds.c.worker_id == worker_id,
            st.one_of(session_holds.c.device_id, "ids", True),
            live(now),
        ),
        {"p_ids": sorted(slots)},
    )
    held = {r.device_id: r.held for r in rows}
    for device_id, slot in slots.items():
        slot.held = held.get(device_id, 0)


def _take(
    conn: Connection,
    postgres: bool,
    picked: Sequence[tuple[Row[Any], bool]],
    slots: dict[int, _Slot],
    worker_id: str,
    lease_s: float,
    now: float,
    specs: SpecCache,
    load_device: DeviceLoader,
) -> list[ClaimedTask]:
    touched = sorted({r.device_id for r, _ in picked})
    if postgres:
        conn.execute(
            st.SET_SLOTS_PG,
            {
                "p_ids": touched,
                "p_running": [slots[d].running for d in touched],
                "p_exclusive": [slots[d].exclusive_held for d in touched],
            },
        )
    else:
        conn.execute(
            st.SET_SLOT,
            [
                {
                    "p_device_id": d,
                    "p_running": slots[d].running,
                    "p_exclusive_held": slots[d].exclusive_held,
                }
                for d in touched
            ],
        )
    consume_holds(conn, postgres, worker_id, {d: slots[d].consumed for d in touched})
    for slot in slots.values():
        slot.consumed = 0
    used_hold = {r.id: own for r, own in picked}
    expires = now + lease_s
    rows = conn.execute(
        st.take_tasks(postgres),
        {
            "p_ids": [r.id for r, _ in picked],
            "p_owner": worker_id,
            "p_expires": expires,
            "p_now": now,
        },
    ).all()
    order = {r.id: i for i, (r, _) in enumerate(picked)}
    return [
        ClaimedTask(
            task_id=r.id,
            job_id=r.job_id,
            attempt=r.attempt,
            max_attempts=r.max_attempts,
            device_id=r.device_id,
            device=load_device(conn, r.device_id, slots[r.device_id].generation),
            spec=specs.get(r.job_id, conn=conn),
            exclusive=bool(r.exclusive),
            lease_expires_at=expires,
            deadline_at=r.deadline_at,
            used_hold=used_hold[r.id],
        )
        for r in sorted(rows, key=lambda r: order[r.id])
    ]


def _claim_event(task: ClaimedTask, worker_id: str, now: float) -> dict[str, Any]:
    return {
        "job_id": task.job_id,
        "task_id": task.task_id,
        "at": now,
        "kind": "claimed",
        "message": f"attempt {task.attempt} claimed by {worker_id}",
        "data": {"worker": worker_id, "attempt": task.attempt},
    }


def heartbeat(
    conn: Connection,
    worker_id: str,
    task_ids: Sequence[int],
    lease_s: float,
    now: float,
    *,
    postgres: bool = False,
    hold_epoch: int = 0,
) -> HeartbeatResult:
    """Renew the leases ``worker_id`` still holds and its live session holds of
    ``hold_epoch`` (one epoch row; holds of older epochs are freed); report cancel
    requests, lost leases, and devices where its idle sessions keep an exclusive task
    waiting or their holds died."""
    drop_old_epochs(conn, postgres=postgres, worker_id=worker_id, epoch=hold_epoch)
    dead = renew_epoch(
        conn, postgres=postgres, worker_id=worker_id, epoch=hold_epoch, now=now, lease_s=lease_s
    )
    exclusive = blocking_exclusive(conn, worker_id, now) | dead
    if not task_ids:
        return HeartbeatResult(frozenset(), frozenset(), frozenset(), exclusive)
    rows = conn.execute(
        st.heartbeat(postgres),
        {"p_ids": sorted(set(task_ids)), "p_owner": worker_id, "p_expires": now + lease_s},
    ).all()
    renewed = frozenset(r.id for r in rows)
    return HeartbeatResult(
        renewed=renewed,
        cancel_requested=frozenset(r.id for r in rows if r.cancel_requested),
        lost=frozenset(task_ids) - renewed,
        close_idle=exclusive,
    )

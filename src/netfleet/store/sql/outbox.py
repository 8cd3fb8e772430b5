"""The notification outbox: events written in the transaction that caused them.

``emit`` is what the rest of the store (and other features) call; ``job_finished``
and ``tasks_failed`` / ``failed_row`` build the payloads of the events the store
produces itself (ids and counts: ``expand`` and ``enrich`` add the names at fan-out;
``rule_checks`` lets the completion skip events no enabled rule names),
``workers_down`` finds workers that went silent, ``backups_stale`` devices whose
last good backup is too old, and ``from_task_events`` passes
on worker task events that name a dotted event type (``config.changed``) in their
kind or their ``data['type']``.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from netfleet.store.schema import jobs, schedules, workers
from netfleet.store.schema_integrations import notification_rules, notify_events
from netfleet.store.sql import bulk

MAX_LISTED_DEVICES = 50
"""A job.finished event names at most this many failed devices."""


def emit(
    conn: Connection,
    type_: str,
    payload: dict[str, Any],
    now: float,
    *,
    dedup_key: str | None = None,
) -> bool:
    """Record an event of ``type_`` for the notification rules; with ``dedup_key``,
    only once per key. Returns whether it was recorded."""
    if dedup_key is not None:
        seen = conn.execute(
            sa.select(notify_events.c.id).where(notify_events.c.dedup_key == dedup_key)
        ).first()
        if seen is not None:
            return False
    conn.execute(notify_events.insert().values(**_row(type_, payload, now, dedup_key)))
    return True


def _row(type_: str, payload: dict[str, Any], now: float, dedup_key: str | None) -> dict[str, Any]:
    """The ``notify_events`` row of an event of ``type_``."""
    return {
        "at": now,
        "type": type_[:64],
        "payload": {"type": type_, "at": now, **payload},
        "dedup_key": dedup_key,
    }


COMPLETION_EVENTS = ("task.failed", "job.failed", "job.partial", "job.succeeded")
"""The rule events the completion path can produce (``job.<status>`` is job.finished)."""


@functools.cache
def rule_checks() -> tuple[sa.Label[int], ...]:
    """A column to add to a query of the completion's transaction: which of
    ``COMPLETION_EVENTS`` an enabled rule names, as bits (a text match on the rule's
    ``match``; it may say yes for a rule that then does not fire, never no for one
    that would). Read in the transaction that writes the event, it sees every rule
    committed before it, from any process, without a cache to invalidate; the
    database computes it once per statement (it does not depend on the row).

    Built once: the expression is constant, and building it (SQLAlchemy's operators,
    four ``CASE``s) cost 1.5 to 3 ms of CPU per call, more than the rest of the
    completion's notification work."""
    text = sa.cast(notification_rules.c.match, sa.Text)
    bits = [
        sa.func.max(sa.case((text.like(f'%"{name}"%'), 1 << i), else_=0))
        for i, name in enumerate(COMPLETION_EVENTS)
    ]
    mask = sa.select(sa.func.coalesce(sum(bits[1:], bits[0]), 0)).where(
        notification_rules.c.enabled == sa.true()
    )
    return (mask.scalar_subquery().label("rule_mask"),)


def wanted(row: Any) -> frozenset[str] | None:
    """The ``COMPLETION_EVENTS`` some enabled rule names, from a row with the
    ``rule_checks`` column; ``None`` (write every event) for a row without it."""
    mask = row._mapping.get("rule_mask")
    if mask is None:
        return None
    return frozenset(n for i, n in enumerate(COMPLETION_EVENTS) if int(mask) & (1 << i))


def job_finished(
    conn: Connection,
    job_id: int,
    state: str,
    now: float,
    counts: dict[str, int],
    wanted: frozenset[str] | None = None,
) -> None:
    """Emit ``job.finished`` for a job that just reached ``state`` with ``counts``
    (``total``, ``succeeded``, ``failed``, ``cancelled``): the ids, status and counts
    only (one insert, no read); fan-out adds the job's names and failed devices
    (``JOB_KEY``). Nothing when ``wanted`` (``rule_checks``) says no rule names it."""
    if wanted is not None and f"job.{state}" not in wanted:
        return
    message = (
        f"{counts['failed']} of {counts['total']} task(s) failed"
        if counts["failed"]
        else f"{counts['succeeded']} of {counts['total']} task(s) succeeded"
    )
    payload = {"type": "job.finished", "at": now, "status": state, "job_id": job_id,
               "counts": counts, "message": message, JOB_KEY: True}  # fmt: skip
    conn.execute(_INSERT_EVENT, {"at": now, "type": "job.finished", "payload": payload})


JOB_KEY = "_job"
"""Marks a ``job.finished`` payload whose job name, kind, schedule, groups and failed
devices are added at fan-out (``enrich``), off the completion's transaction."""

ENRICH_KEY = "_enrich"
"""Marks a ``task.failed`` payload whose device, groups, job and schedule names are
added at fan-out (``enrich``), off the completion's transaction."""

BATCH_KEY = "_failed"
"""A ``task.failed`` row holding the failures of one completion as
``[job_id, task_id, error_kind, message]`` lists: ``expand`` turns it into one event
per task at fan-out."""


def tasks_failed(
    conn: Connection,
    failures: Sequence[dict[str, Any]],
    now: float,
    wanted: frozenset[str] | None = None,
) -> None:
    """Emit ``task.failed`` for ``failures`` (see ``failed_row``)."""
    row = failed_row(failures, now, wanted)
    if row is not None:
        conn.execute(_INSERT_EVENT, row)


def failed_row(
    failures: Sequence[dict[str, Any]], now: float, wanted: frozenset[str] | None = None
) -> dict[str, Any] | None:
    """The ``task.failed`` outbox row for task events rows (``job_id``, ``task_id``,
    ``message``) of tasks that failed for good; ``error_kind`` is the row's
    ``data['error_kind']`` or ``kind``. The completion's transaction pays for one small
    row whatever the number of failures (``BATCH_KEY``; on PostgreSQL inside the task
    events' insert, ``ahead``), and for none when ``wanted`` (``rule_checks``) says no
    rule names ``task.failed``; fan-out makes the per-task events and adds the names."""
    if wanted is not None and "task.failed" not in wanted:
        return None
    batch = [
        [f["job_id"], f["task_id"], (f.get("data") or {}).get("error_kind") or f.get("kind"),
         str(f.get("message") or "")[:2000]]
        for f in failures
    ]  # fmt: skip
    if not batch:
        return None
    payload = {"type": "task.failed", "at": now, BATCH_KEY: batch}
    return {"at": now, "type": "task.failed", "payload": payload}


def insert_row(conn: Connection, row: dict[str, Any]) -> None:
    """Insert a row of ``failed_row``."""
    conn.execute(_INSERT_EVENT, row)


def ahead(row: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """A row of ``failed_row`` as ``bulk.insert_rows``' ``ahead`` (PostgreSQL)."""
    params = {"o_at": row["at"], "o_type": row["type"], "o_payload": json.dumps(row["payload"])}
    return _AHEAD, params


_INSERT_EVENT = notify_events.insert()
"""Built once: the completion path's insert (its parameters name the columns)."""
_AHEAD = (
    "INSERT INTO notify_events (at, type, payload) "
    "VALUES (%(o_at)s, %(o_type)s, CAST(%(o_payload)s AS json))"
)


def expand(conn: Connection, events: Sequence[Any]) -> list[Any]:
    """``events`` (``OutboxEvent``s) with every ``BATCH_KEY`` row replaced by one
    ``task.failed`` event per task, stored as events already fanned out (the caller
    fans them out in this transaction, with the batch row)."""
    from netfleet.store.records_integrations import OutboxEvent

    out: list[Any] = []
    for e in events:
        batch = e.payload.get(BATCH_KEY)
        if batch is None:
            out.append(e)
            continue
        payloads = [
            {"type": "task.failed", "at": e.at, "job_id": job_id, "task_id": task_id,
             "error_kind": kind, "message": message, ENRICH_KEY: True}
            for job_id, task_id, kind, message in batch
        ]  # fmt: skip
        split = [OutboxEvent(0, e.at, "task.failed", p) for p in payloads]
        _add_names(conn, split)
        ids = conn.execute(
            notify_events.insert().returning(notify_events.c.id, sort_by_parameter_order=True),
            [{"at": e.at, "type": "task.failed", "payload": x.payload, "fanned_out": True}
             for x in split],
        ).scalars().all()  # fmt: skip
        for event_id, x in zip(ids, split, strict=True):
            out.append(OutboxEvent(int(event_id), x.at, x.type, x.payload))
    return out


def enrich(conn: Connection, events: Sequence[Any]) -> None:
    """Add ``device``, ``groups``, ``job_name`` and ``schedule`` to the ``task.failed``
    payloads of ``events`` (``OutboxEvent``s, changed in place and in the table), and
    the job's names and failed devices to its ``job.finished`` ones."""
    pending = [e for e in events if e.payload.get(ENRICH_KEY)]
    _add_names(conn, pending)
    finished = [e for e in events if e.payload.get(JOB_KEY)]
    for e in finished:
        _add_job(conn, e.payload)
    pending += finished
    if not pending:
        return
    conn.execute(
        notify_events.update()
        .where(notify_events.c.id == sa.bindparam("p_id"))
        .values(payload=sa.bindparam("p_payload")),
        [{"p_id": e.id, "p_payload": e.payload} for e in pending],
    )


def _add_job(conn: Connection, payload: dict[str, Any]) -> None:
    """The job names and failed devices of a ``job.finished`` payload, in memory."""
    from netfleet.store.schema import tasks

    payload.pop(JOB_KEY, None)
    job_id = payload["job_id"]
    row = conn.execute(
        sa.select(jobs.c.name, jobs.c.kind, jobs.c.spec, schedules.c.name.label("schedule"))
        .select_from(jobs.outerjoin(schedules, schedules.c.id == jobs.c.schedule_id))
        .where(jobs.c.id == job_id)
    ).first()
    if row is None:
        return  # the job was deleted meanwhile; the ids, status and counts remain
    failed = conn.execute(
        sa.select(tasks.c.device_name)
        .where(tasks.c.job_id == job_id, tasks.c.state == "failed")
        .order_by(tasks.c.device_name)
        .limit(MAX_LISTED_DEVICES)
    ).scalars()
    try:
        groups = list(json.loads(row.spec).get("targets", {}).get("groups") or [])
    except (ValueError, AttributeError):
        groups = []
    payload.update(job_name=row.name, job_kind=row.kind, schedule=row.schedule,
                   groups=groups, devices=list(failed))  # fmt: skip


def _add_names(conn: Connection, pending: Sequence[Any]) -> None:
    """The names of ``enrich``, in memory."""
    from netfleet.store.schema import devices, tasks

    if not pending:
        return

    ids = sorted({int(e.payload["task_id"]) for e in pending})
    info = {
        r.id: r
        for r in conn.execute(
            sa.select(
                tasks.c.id, tasks.c.device_name, jobs.c.name, devices.c.groups, schedules.c.name
            )
            .select_from(
                tasks.join(jobs, jobs.c.id == tasks.c.job_id)
                .outerjoin(devices, devices.c.id == tasks.c.device_id)
                .outerjoin(schedules, schedules.c.id == jobs.c.schedule_id)
            )
            .where(tasks.c.id.in_(ids))
        )
    }
    for e in pending:
        e.payload.pop(ENRICH_KEY, None)
        r = info.get(int(e.payload["task_id"]))
        if r is not None:  # else: the job was deleted meanwhile; the ids remain
            e.payload.update(
                job_name=r[2], device=r.device_name, groups=list(r[3] or []), schedule=r[4]
            )


def workers_down(conn: Connection, now: float, stale_after: float, horizon: float) -> int:
    """Emit ``worker.down`` once per worker whose heartbeat stopped (older than
    ``stale_after`` seconds but younger than ``horizon``) without it stopping cleanly."""
    rows = conn.execute(
        sa.select(workers.c.id, workers.c.hostname, workers.c.pid, workers.c.heartbeat_at).where(
            workers.c.state != "stopped",
            workers.c.heartbeat_at < now - stale_after,
            workers.c.heartbeat_at > now - horizon,
        )
    ).all()
    emitted = 0
    for r in rows:
        silent = now - r.heartbeat_at
        emitted += emit(
            conn,
            "worker.down",
            {
                "worker": r.id,
                "hostname": r.hostname,
                "pid": r.pid,
                "last_heartbeat_at": r.heartbeat_at,
                "message": f"worker {r.id} sent no heartbeat for {silent:.0f}s",
            },
            now,
            dedup_key=f"worker.down:{r.id}:{r.heartbeat_at!r}",
        )
    return emitted


def backups_stale(conn: Connection, now: float, stale_after: float, limit: int = 500) -> int:
    """Emit ``backup.stale`` for devices whose last good backup is older than
    ``stale_after`` seconds: once per stale episode (``stale_notified_at`` is claimed
    here, so concurrent callers emit once, and cleared by the next good backup).
    Devices never backed up are not stale. Returns how many were emitted."""
    from netfleet.store.schema import devices
    from netfleet.store.schema_configs import config_backups as cb

    due = (cb.c.ok_at < now - stale_after) & cb.c.stale_notified_at.is_(None)
    names = [
        str(r[0])
        for r in conn.execute(sa.select(cb.c.device).where(due).order_by(cb.c.ok_at).limit(limit))
    ]
    if not names:
        return 0
    claimed = conn.execute(
        cb.update()
        .where(cb.c.device.in_(names), due)
        .values(stale_notified_at=now)
        .returning(cb.c.device, cb.c.ok_at, cb.c.ok, cb.c.error)
    ).all()
    groups = {
        r.name: list(r.groups or [])
        for r in conn.execute(
            sa.select(devices.c.name, devices.c.groups).where(
                devices.c.name.in_([c.device for c in claimed])
            )
        )
    }
    events = []
    for r in sorted(claimed, key=lambda c: c.ok_at):
        if r.device not in groups:
            continue  # no longer in the inventory
        hours = (now - r.ok_at) / 3600.0
        why = f"; the last attempt failed: {r.error}" if r.ok is False and r.error else ""
        payload = {
            "type": "backup.stale",
            "at": now,
            "device": r.device,
            "groups": groups[r.device],
            "last_ok_at": r.ok_at,
            "stale_after_s": stale_after,
            "message": f"{r.device}: the last good backup is {hours:.1f} h old{why}"[:2000],
        }
        events.append({"at": now, "type": "backup.stale", "payload": payload})
    if events:
        conn.execute(notify_events.insert(), events)
    return len(events)


def from_task_events(conn: Connection, rows: Sequence[dict[str, Any]], now: float) -> None:
    """Task events that name a notification event type (dotted, e.g. ``config.changed``)
    in their kind or, for kinds kept short for the task log (``config_changed``), in
    ``data['type']`` also go to the outbox, with their data as the payload."""
    batch: list[dict[str, Any]] = []
    for row in rows:
        data = dict(row.get("data") or {})
        kind = str(row.get("kind", ""))
        if "." not in kind:
            kind = str(data.get("type") or "")
            if "." not in kind:
                continue
        payload = {"job_id": row.get("job_id"), "task_id": row.get("task_id"), **data}
        if row.get("message") and "message" not in payload:
            payload["message"] = row["message"]
        batch.append(_row(kind, payload, now, None))  # one statement: a fleet backup's changes
    bulk.insert_rows(conn, notify_events, batch)

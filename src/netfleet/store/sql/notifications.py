"""Notification SQL: the event outbox, rules, the delivery queue and its log.

``emit`` is what the rest of the store calls (in the transaction that caused the
event); ``job_finished`` and ``tasks_failed`` build the payloads of the two events
the store produces itself. ``fan_out`` turns pending events into deliveries (one
per matching rule, unique per (rule, event)) and ``claim``/``finish`` run the
queue: leases make a crashed sender's deliveries claimable again, fencing by
lease owner and attempt keeps a late sender from overwriting a newer result.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from netfleet.core.errors import Conflict, NotFound
from netfleet.store.crypto import SecretBox
from netfleet.store.records_integrations import (
    AttemptOutcome,
    AttemptRecord,
    ClaimedDelivery,
    DeliveryRecord,
    NewRule,
    OutboxEvent,
    PlannedDelivery,
    RuleRecord,
)
from netfleet.store.schema import jobs, schedules, workers
from netfleet.store.schema_integrations import (
    notification_attempts,
    notification_deliveries,
    notification_rules,
    notify_events,
)

MAX_LISTED_DEVICES = 50
"""A job.finished event names at most this many failed devices."""

Matcher = Callable[[Sequence[RuleRecord], OutboxEvent], list[int]]
"""Given the enabled rules and one event, the ids of the rules that fire."""


# --- the outbox -----------------------------------------------------------------


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
    conn.execute(
        notify_events.insert().values(
            at=now,
            type=type_[:64],
            payload={"type": type_, "at": now, **payload},
            dedup_key=dedup_key,
        )
    )
    return True


def job_finished(conn: Connection, job_id: int, state: str, now: float) -> None:
    """Emit ``job.finished`` for a job that just reached ``state``."""
    from netfleet.store.schema import tasks

    row = conn.execute(
        sa.select(
            jobs.c.name,
            jobs.c.kind,
            jobs.c.spec,
            jobs.c.tasks_total,
            jobs.c.tasks_succeeded,
            jobs.c.tasks_failed,
            jobs.c.tasks_cancelled,
            schedules.c.name.label("schedule"),
        )
        .select_from(jobs.outerjoin(schedules, schedules.c.id == jobs.c.schedule_id))
        .where(jobs.c.id == job_id)
    ).first()
    if row is None:
        return
    failed = [
        r.device_name
        for r in conn.execute(
            sa.select(tasks.c.device_name)
            .where(tasks.c.job_id == job_id, tasks.c.state == "failed")
            .order_by(tasks.c.device_name)
            .limit(MAX_LISTED_DEVICES)
        )
    ]
    try:
        groups = list(json.loads(row.spec).get("targets", {}).get("groups") or [])
    except (ValueError, AttributeError):
        groups = []
    counts = {
        "total": row.tasks_total,
        "succeeded": row.tasks_succeeded,
        "failed": row.tasks_failed,
        "cancelled": row.tasks_cancelled,
    }
    emit(
        conn,
        "job.finished",
        {
            "status": state,
            "job_id": job_id,
            "job_name": row.name,
            "job_kind": row.kind,
            "schedule": row.schedule,
            "groups": groups,
            "devices": failed,
            "counts": counts,
            "message": f"{row.tasks_failed} of {row.tasks_total} task(s) failed"
            if row.tasks_failed
            else f"{row.tasks_succeeded} of {row.tasks_total} task(s) succeeded",
        },
        now,
    )


def tasks_failed(conn: Connection, failures: Sequence[dict[str, Any]], now: float) -> None:
    """Emit ``task.failed`` for task events rows (``job_id``, ``task_id``, ``message``)
    of tasks that failed for good; ``error_kind`` is the row's ``data['error_kind']`` or
    ``kind``."""
    if not failures:
        return
    from netfleet.store.schema import devices, tasks

    ids = sorted({int(f["task_id"]) for f in failures})
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
    rows = []
    for f in failures:
        r = info.get(int(f["task_id"]))
        if r is None:
            continue
        data = f.get("data") or {}
        payload = {
            "type": "task.failed",
            "at": now,
            "job_id": f["job_id"],
            "task_id": f["task_id"],
            "job_name": r[2],
            "device": r.device_name,
            "groups": list(r[3] or []),
            "schedule": r[4],
            "error_kind": data.get("error_kind") or f.get("kind"),
            "message": str(f.get("message") or "")[:2000],
        }
        rows.append({"at": now, "type": "task.failed", "payload": payload})
    if rows:
        conn.execute(notify_events.insert(), rows)


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


def fan_out(
    conn: Connection, *, postgres: bool, match: Matcher, now: float, limit: int = 500
) -> tuple[int, int]:
    """Turn up to ``limit`` pending events into deliveries of the rules ``match`` picks.
    Returns (events fanned out, deliveries created)."""
    query = (
        sa.select(notify_events.c.id, notify_events.c.at, notify_events.c.type,
                  notify_events.c.payload)
        .where(notify_events.c.fanned_out == sa.false())
        .order_by(notify_events.c.id)
        .limit(limit)
    )  # fmt: skip
    if postgres:
        query = query.with_for_update(skip_locked=True)
    events = [OutboxEvent(r.id, r.at, r.type, dict(r.payload)) for r in conn.execute(query)]
    if not events:
        return 0, 0
    rules = list_rules(conn, enabled=True)
    planned = [
        PlannedDelivery(rule_id, e.id, e.type, e.payload)
        for e in events
        for rule_id in match(rules, e)
    ]
    created = insert_deliveries(conn, planned, now)
    conn.execute(
        notify_events.update()
        .where(notify_events.c.id.in_([e.id for e in events]))
        .values(fanned_out=True)
    )
    return len(events), created


def insert_deliveries(conn: Connection, planned: Sequence[PlannedDelivery], now: float) -> int:
    """Queue deliveries, skipping (rule, event) pairs that exist already."""
    if not planned:
        return 0
    pairs = {(p.rule_id, p.event_id) for p in planned}
    existing = {
        (r.rule_id, r.event_id)
        for r in conn.execute(
            sa.select(notification_deliveries.c.rule_id, notification_deliveries.c.event_id).where(
                notification_deliveries.c.event_id.in_(sorted({e for _, e in pairs}))
            )
        )
    }
    rows = []
    for p in planned:
        if (p.rule_id, p.event_id) in existing:
            continue
        existing.add((p.rule_id, p.event_id))
        rows.append(
            {
                "rule_id": p.rule_id,
                "event_id": p.event_id,
                "delivery_key": uuid.uuid4().hex,
                "event_type": p.event_type[:64],
                "payload": p.payload,
                "state": "pending",
                "attempts": 0,
                "next_at": now,
                "created_at": now,
            }
        )
    if rows:
        conn.execute(notification_deliveries.insert(), rows)
    return len(rows)


def prune(conn: Connection, before: float) -> int:
    """Delete fanned-out events and finished deliveries (with their log) older than
    ``before``."""
    n = conn.execute(
        notify_events.delete().where(
            notify_events.c.fanned_out == sa.true(), notify_events.c.at < before
        )
    ).rowcount
    old = sa.select(notification_deliveries.c.id).where(
        notification_deliveries.c.state != "pending",
        notification_deliveries.c.finished_at < before,
    )
    conn.execute(notification_attempts.delete().where(notification_attempts.c.delivery_id.in_(old)))
    n += conn.execute(
        notification_deliveries.delete().where(notification_deliveries.c.id.in_(old))
    ).rowcount
    return int(n)


# --- rules ----------------------------------------------------------------------


def _rule(row: Row[Any]) -> RuleRecord:
    m = row._mapping
    return RuleRecord(
        id=m["id"],
        name=m["name"],
        kind=m["kind"],
        match=dict(m["match"]),
        target=dict(m["target"]),
        has_secret=m["secret_enc"] is not None,
        enabled=bool(m["enabled"]),
        origin=m["origin"],
        created_at=m["created_at"],
        updated_at=m["updated_at"],
    )


def _rule_row(conn: Connection, ref: int | str) -> Row[Any] | None:
    column = notification_rules.c.id if isinstance(ref, int) else notification_rules.c.name
    return conn.execute(sa.select(notification_rules).where(column == ref)).first()


def create_rule(
    conn: Connection, box: SecretBox, rule: NewRule, now: float, *, replace: bool = False
) -> RuleRecord:
    """Store ``rule``; ``Conflict`` if the name exists (unless ``replace``). A replaced
    rule without a new secret keeps its old one."""
    row = _rule_row(conn, rule.name)
    values: dict[str, Any] = {
        "kind": rule.kind,
        "match": rule.match,
        "target": rule.target,
        "enabled": rule.enabled,
        "origin": rule.origin,
        "updated_at": now,
    }
    if rule.secret is not None:
        values["secret_enc"] = box.encrypt(rule.secret)
    if row is None:
        conn.execute(notification_rules.insert().values(name=rule.name, created_at=now, **values))
    elif not replace:
        raise Conflict(f"notification rule {rule.name!r} exists already")
    else:
        conn.execute(notification_rules.update().where(notification_rules.c.id == row.id)
                     .values(**values))  # fmt: skip
    found = _rule_row(conn, rule.name)
    assert found is not None
    return _rule(found)


def get_rule(conn: Connection, ref: int | str) -> RuleRecord:
    row = _rule_row(conn, ref)
    if row is None:
        raise NotFound(f"notification rule {ref!r} does not exist")
    return _rule(row)


def list_rules(conn: Connection, *, enabled: bool | None = None) -> list[RuleRecord]:
    query = sa.select(notification_rules).order_by(notification_rules.c.name)
    if enabled is not None:
        query = query.where(notification_rules.c.enabled == enabled)
    return [_rule(r) for r in conn.execute(query)]


def delete_rule(conn: Connection, ref: int | str) -> None:
    row = _rule_row(conn, ref)
    if row is None:
        raise NotFound(f"notification rule {ref!r} does not exist")
    conn.execute(notification_attempts.delete().where(notification_attempts.c.rule_id == row.id))
    conn.execute(notification_rules.delete().where(notification_rules.c.id == row.id))


def sync_settings_rules(
    conn: Connection, box: SecretBox, rules: Sequence[NewRule], now: float
) -> list[str]:
    """Make the rules of origin ``settings`` exactly ``rules``; returns their names.
    A rule created through the API with the same name is left alone (``Conflict``)."""
    wanted = {r.name for r in rules}
    for rule in rules:
        row = _rule_row(conn, rule.name)
        if row is not None and row.origin != "settings":
            raise Conflict(
                f"notification rule {rule.name!r} from the settings clashes with one made "
                "through the API; rename one of them"
            )
        create_rule(conn, box, rule, now, replace=True)
    stale = [
        r.id
        for r in conn.execute(
            sa.select(notification_rules.c.id, notification_rules.c.name).where(
                notification_rules.c.origin == "settings"
            )
        )
        if r.name not in wanted
    ]
    for rule_id in stale:
        delete_rule(conn, rule_id)
    return sorted(wanted)


# --- the delivery queue ---------------------------------------------------------


def enqueue_direct(
    conn: Connection, rule_id: int, type_: str, payload: dict[str, Any], now: float
) -> int:
    """Queue one delivery of an event to one rule, bypassing the match (test sends)."""
    conn.execute(
        notify_events.insert().values(
            at=now, type=type_, payload={"type": type_, "at": now, **payload}, fanned_out=True
        )
    )
    event_id = conn.execute(sa.select(sa.func.max(notify_events.c.id))).scalar_one()
    insert_deliveries(
        conn,
        [PlannedDelivery(rule_id, int(event_id), type_, {"type": type_, "at": now, **payload})],
        now,
    )
    return int(
        conn.execute(
            sa.select(notification_deliveries.c.id).where(
                notification_deliveries.c.rule_id == rule_id,
                notification_deliveries.c.event_id == event_id,
            )
        ).scalar_one()
    )


def claim(
    conn: Connection,
    box: SecretBox,
    *,
    postgres: bool,
    owner: str,
    now: float,
    lease_s: float,
    limit: int,
    only: int | None = None,
) -> list[ClaimedDelivery]:
    """Lease up to ``limit`` due deliveries (``only``: that one, if pending) to ``owner``."""
    d, r = notification_deliveries, notification_rules
    query = (
        sa.select(d.c.id)
        .where(
            d.c.state == "pending",
            d.c.next_at <= now,
            sa.or_(d.c.lease_until.is_(None), d.c.lease_until < now),
        )
        .order_by(d.c.next_at, d.c.id)
        .limit(limit)
    )
    if only is not None:
        query = query.where(d.c.id == only)
    if postgres:
        query = query.with_for_update(skip_locked=True)
    ids = [row.id for row in conn.execute(query)]
    if not ids:
        return []
    conn.execute(
        d.update()
        .where(d.c.id.in_(ids))
        .values(lease_owner=owner, lease_until=now + lease_s, attempts=d.c.attempts + 1)
    )
    rows = conn.execute(
        sa.select(d, r.c.name.label("rule_name"), r.c.kind, r.c.target, r.c.secret_enc)
        .select_from(d.join(r, r.c.id == d.c.rule_id))
        .where(d.c.id.in_(ids))
        .order_by(d.c.next_at, d.c.id)
    )
    return [
        ClaimedDelivery(
            id=row.id,
            rule_id=row.rule_id,
            rule_name=row.rule_name,
            kind=row.kind,
            target=dict(row.target),
            secret=box.decrypt(row.secret_enc, what=f"the secret of rule {row.rule_name!r}"),
            delivery_key=row.delivery_key,
            event_type=row.event_type,
            payload=dict(row.payload),
            attempt=row.attempts,
        )
        for row in rows
    ]


def finish(
    conn: Connection,
    delivery: ClaimedDelivery,
    *,
    owner: str,
    outcome: AttemptOutcome,
    status: int | None,
    reason: str,
    duration_ms: float,
    retry_at: float | None,
    now: float,
) -> bool:
    """Record an attempt and its effect: delivered, retried at ``retry_at`` or failed
    for good (``retry_at`` None and not delivered). False when fenced out."""
    d = notification_deliveries
    values: dict[str, Any] = {"lease_owner": None, "lease_until": None, "last_error": None}
    if outcome == "delivered":
        values.update(state="delivered", finished_at=now)
    elif retry_at is not None:
        values.update(next_at=retry_at, last_error=reason[:2000])
    else:
        values.update(state="failed", finished_at=now, last_error=reason[:2000])
    updated = conn.execute(
        d.update()
        .where(
            d.c.id == delivery.id,
            d.c.state == "pending",
            d.c.lease_owner == owner,
            d.c.attempts == delivery.attempt,
        )
        .values(**values)
    ).rowcount
    if not updated:
        return False
    conn.execute(
        notification_attempts.insert().values(
            delivery_id=delivery.id,
            rule_id=delivery.rule_id,
            at=now,
            attempt=delivery.attempt,
            outcome=outcome,
            status=status,
            reason=reason[:2000],
            duration_ms=duration_ms,
        )
    )
    return True


def _delivery(row: Row[Any]) -> DeliveryRecord:
    m = row._mapping
    return DeliveryRecord(
        id=m["id"],
        rule_id=m["rule_id"],
        delivery_key=m["delivery_key"],
        event_type=m["event_type"],
        state=m["state"],
        attempts=m["attempts"],
        next_at=m["next_at"],
        last_error=m["last_error"],
        created_at=m["created_at"],
        finished_at=m["finished_at"],
    )


def get_delivery(conn: Connection, delivery_id: int) -> DeliveryRecord:
    row = conn.execute(
        sa.select(notification_deliveries).where(notification_deliveries.c.id == delivery_id)
    ).first()
    if row is None:
        raise NotFound(f"delivery {delivery_id} does not exist")
    return _delivery(row)


def list_deliveries(
    conn: Connection, *, rule_id: int | None, state: str | None, limit: int
) -> list[DeliveryRecord]:
    d = notification_deliveries
    query = sa.select(d).order_by(d.c.id.desc()).limit(limit)
    if rule_id is not None:
        query = query.where(d.c.rule_id == rule_id)
    if state is not None:
        query = query.where(d.c.state == state)
    return [_delivery(r) for r in conn.execute(query)]


def attempts(conn: Connection, rule_id: int, *, limit: int) -> list[AttemptRecord]:
    """The newest ``limit`` lines of a rule's delivery log, newest first."""
    a, d = notification_attempts, notification_deliveries
    rows = conn.execute(
        sa.select(a, d.c.delivery_key, d.c.event_type)
        .select_from(a.join(d, d.c.id == a.c.delivery_id))
        .where(a.c.rule_id == rule_id)
        .order_by(a.c.id.desc())
        .limit(limit)
    )
    return [
        AttemptRecord(
            id=r.id,
            delivery_id=r.delivery_id,
            delivery_key=r.delivery_key,
            event_type=r.event_type,
            at=r.at,
            attempt=r.attempt,
            outcome=r.outcome,
            status=r.status,
            reason=r.reason,
            duration_ms=r.duration_ms,
        )
        for r in rows
    ]


def backlog(conn: Connection) -> dict[str, int]:
    """Counts: events not fanned out, deliveries pending/delivered/failed."""
    out = {"events_pending": 0, "pending": 0, "delivered": 0, "failed": 0}
    out["events_pending"] = int(
        conn.execute(
            sa.select(sa.func.count()).where(notify_events.c.fanned_out == sa.false())
        ).scalar_one()
    )
    for state, n in conn.execute(
        sa.select(notification_deliveries.c.state, sa.func.count()).group_by(
            notification_deliveries.c.state
        )
    ):
        out[state] = int(n)
    return out


def from_task_events(conn: Connection, rows: Sequence[dict[str, Any]], now: float) -> None:
    """Task events whose kind is a notification event type (dotted, e.g.
    ``config.changed``) also go to the outbox, with their data as the payload."""
    for row in rows:
        kind = str(row.get("kind", ""))
        if "." not in kind:
            continue
        data = dict(row.get("data") or {})
        payload = {"job_id": row.get("job_id"), "task_id": row.get("task_id"), **data}
        if row.get("message") and "message" not in payload:
            payload["message"] = row["message"]
        emit(conn, kind, payload, now)

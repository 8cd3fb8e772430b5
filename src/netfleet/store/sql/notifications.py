"""Notification SQL: rules, the delivery queue and its log (the events themselves
are written by ``sql.outbox``).

``fan_out`` turns pending events into deliveries (one per matching rule, unique per
(rule, event)) and ``claim``/``finish`` run the queue: leases make a crashed
sender's deliveries claimable again, fencing by lease owner and attempt keeps a
late sender from overwriting a newer result.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from netfleet.core.errors import Conflict, NotFound
from netfleet.store.crypto import SecretBox
from netfleet.store.records_integrations import (
    AttemptOutcome,
    ClaimedDelivery,
    NewRule,
    OutboxEvent,
    PlannedDelivery,
    RuleRecord,
)
from netfleet.store.schema_integrations import (
    notification_attempts,
    notification_deliveries,
    notification_rules,
    notify_events,
)
from netfleet.store.sql import outbox

Matcher = Callable[[Sequence[RuleRecord], OutboxEvent], list[int]]
"""Given the enabled rules and one event, the ids of the rules that fire."""


def fan_out(
    conn: Connection, *, postgres: bool, match: Matcher, now: float, limit: int = 500
) -> tuple[int, int]:
    """Turn up to ``limit`` pending outbox rows into deliveries of the rules ``match``
    picks (a row of one completion's failures is one event per task).
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
    batches = [e.id for e in events]
    events = outbox.expand(conn, events)
    outbox.enrich(conn, events)
    rules = list_rules(conn, enabled=True)
    planned = [
        PlannedDelivery(rule_id, e.id, e.type, e.payload)
        for e in events
        for rule_id in match(rules, e)
    ]
    created = insert_deliveries(conn, planned, now)
    conn.execute(
        notify_events.update().where(notify_events.c.id.in_(batches)).values(fanned_out=True)
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

"""Reading the delivery queue and log: deliveries, a rule's attempts, backlog counts."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from netfleet.core.errors import NotFound
from netfleet.store.records_integrations import AttemptRecord, DeliveryRecord
from netfleet.store.schema_integrations import (
    notification_attempts,
    notification_deliveries,
    notify_events,
)


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

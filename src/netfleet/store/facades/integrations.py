"""Façades of the integrations: ``store.notifications`` (rules, outbox, delivery
queue and log) and ``store.sources`` (NetBox/Nautobot sources and their syncs)."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from typing import Any

from sqlalchemy.engine import Connection

from netfleet.core.models import DeviceSpec
from netfleet.store.facades import Facade, clamp
from netfleet.store.records_integrations import (
    Attempt,
    AttemptOutcome,
    AttemptRecord,
    ClaimedDelivery,
    DeliveryRecord,
    NewRule,
    NewSource,
    RuleRecord,
    SourceDevice,
    SourceRecord,
    SyncReportRecord,
)
from netfleet.store.sql import delivery_log, outbox
from netfleet.store.sql import notifications as notify_sql
from netfleet.store.sql import sources as sources_sql


class Notifications(Facade):
    """Rules (secrets write-only), the event outbox and the durable delivery queue."""

    async def emit(
        self, type_: str, payload: dict[str, Any], *, dedup_key: str | None = None
    ) -> bool:
        """Record an event for the rules (any type; rules match it by ``type``)."""
        db = self._db
        return await db.run(
            lambda c: outbox.emit(c, type_, payload, db.clock(c), dedup_key=dedup_key),
            what=f"record a {type_} event",
        )

    async def create(self, rule: NewRule, *, replace: bool = False) -> RuleRecord:
        """Store a rule; ``Conflict`` if the name is taken (unless ``replace``)."""
        db = self._db
        return await db.run(
            lambda c: notify_sql.create_rule(c, db.box, rule, db.clock(c), replace=replace),
            what=f"store notification rule {rule.name!r}",
        )

    async def get(self, ref: int | str) -> RuleRecord:
        return await self._db.run(
            lambda c: notify_sql.get_rule(c, ref), what=f"read rule {ref!r}", write=False
        )

    async def list(self) -> builtins.list[RuleRecord]:
        return await self._db.run(notify_sql.list_rules, what="list rules", write=False)

    async def delete(self, ref: int | str) -> None:
        """Delete a rule with its queue and log; ``NotFound``."""
        await self._db.run(lambda c: notify_sql.delete_rule(c, ref), what=f"delete rule {ref!r}")

    async def sync_settings(self, rules: Sequence[NewRule]) -> builtins.list[str]:
        """Make the rules from the settings exactly ``rules`` (see ``sync_settings_rules``)."""
        db = self._db
        return await db.run(
            lambda c: notify_sql.sync_settings_rules(c, db.box, rules, db.clock(c)),
            what="apply the notification rules of the settings",
        )

    async def fan_out(self, match: notify_sql.Matcher, *, limit: int = 500) -> tuple[int, int]:
        """Pending events to deliveries of the rules ``match`` picks; (events, deliveries)."""
        db = self._db
        return await db.run(
            lambda c: notify_sql.fan_out(
                c, postgres=db.postgres, match=match, now=db.clock(c), limit=limit
            ),
            what="fan out notification events",
        )

    async def fan_out_and_claim(
        self,
        match: notify_sql.Matcher,
        owner: str,
        *,
        lease_s: float,
        limit: int,
        batch: int = 500,
    ) -> builtins.list[ClaimedDelivery]:
        """``fan_out`` every pending event (``batch`` at a time) and ``claim`` up to
        ``limit`` due deliveries, in one transaction (one write on SQLite's single
        writer instead of one per step)."""
        db = self._db

        def op(c: Connection) -> builtins.list[ClaimedDelivery]:
            now = db.clock(c)
            while notify_sql.fan_out(c, postgres=db.postgres, match=match, now=now,
                                     limit=batch)[0] == batch:  # fmt: skip
                pass
            if limit <= 0:
                return []
            return notify_sql.claim(
                c, db.box, postgres=db.postgres, owner=owner, now=now, lease_s=lease_s,
                limit=limit,
            )  # fmt: skip

        return await db.run(op, what="fan out and claim notification deliveries")

    async def detect_workers_down(self, stale_after_s: float, horizon_s: float = 86_400.0) -> int:
        """Emit ``worker.down`` for workers silent for ``stale_after_s`` (once each)."""
        db = self._db
        return await db.run(
            lambda c: outbox.workers_down(c, db.clock(c), stale_after_s, horizon_s),
            what="look for workers that went down",
        )

    async def detect_backups_stale(self, stale_after_s: float) -> int:
        """Emit ``backup.stale`` once per stale episode of a device's backups."""
        db = self._db
        return await db.run(
            lambda c: outbox.backups_stale(c, db.clock(c), stale_after_s),
            what="look for stale backups",
        )

    async def enqueue_direct(self, rule_id: int, type_: str, payload: dict[str, Any]) -> int:
        """Queue one delivery of an event to one rule (a test send); its delivery id."""
        db = self._db
        return await db.run(
            lambda c: notify_sql.enqueue_direct(c, rule_id, type_, payload, db.clock(c)),
            what="queue a test notification",
        )

    async def claim(
        self, owner: str, *, lease_s: float, limit: int, only: int | None = None
    ) -> builtins.list[ClaimedDelivery]:
        """Lease due deliveries to ``owner`` (with the rules' secrets, decrypted)."""
        db = self._db
        return await db.run(
            lambda c: notify_sql.claim(
                c, db.box, postgres=db.postgres, owner=owner, now=db.clock(c),
                lease_s=lease_s, limit=limit, only=only,
            ),
            what="claim notification deliveries",
        )  # fmt: skip

    async def finish(
        self,
        delivery: ClaimedDelivery,
        *,
        owner: str,
        outcome: AttemptOutcome,
        status: int | None,
        reason: str,
        duration_ms: float,
        retry_in_s: float | None,
    ) -> bool:
        """Record an attempt; retry after ``retry_in_s`` or end. False if fenced out."""
        db = self._db

        def op(conn: Connection) -> bool:
            now = db.clock(conn)
            return notify_sql.finish(
                conn, delivery, owner=owner, outcome=outcome, status=status, reason=reason,
                duration_ms=duration_ms,
                retry_at=None if retry_in_s is None else now + retry_in_s, now=now,
            )  # fmt: skip

        return await db.run(op, what="record a notification attempt")

    async def finish_many(
        self, owner: str, results: Sequence[tuple[ClaimedDelivery, Attempt]]
    ) -> int:
        """``finish`` for many attempts in one transaction; how many were recorded."""
        db = self._db

        def op(conn: Connection) -> int:
            now = db.clock(conn)
            done = 0
            for delivery, a in results:
                done += notify_sql.finish(
                    conn, delivery, owner=owner, outcome=a.outcome, status=a.status,
                    reason=a.reason, duration_ms=a.duration_ms,
                    retry_at=None if a.retry_in_s is None else now + a.retry_in_s, now=now,
                )  # fmt: skip
            return done

        return await db.run(op, what="record notification attempts")

    async def delivery(self, delivery_id: int) -> DeliveryRecord:
        return await self._db.run(
            lambda c: delivery_log.get_delivery(c, clamp(delivery_id)),
            what="read a delivery",
            write=False,
        )

    async def deliveries(
        self, *, rule_id: int | None = None, state: str | None = None, limit: int = 100
    ) -> builtins.list[DeliveryRecord]:
        return await self._db.run(
            lambda c: delivery_log.list_deliveries(
                c, rule_id=rule_id, state=state, limit=max(1, min(limit, 10_000))
            ),
            what="list deliveries",
            write=False,
        )

    async def log(self, rule_id: int, *, limit: int = 100) -> builtins.list[AttemptRecord]:
        """A rule's delivery log, newest first."""
        return await self._db.run(
            lambda c: delivery_log.attempts(c, rule_id, limit=max(1, min(limit, 10_000))),
            what="read a delivery log",
            write=False,
        )

    async def backlog(self) -> dict[str, int]:
        return await self._db.run(delivery_log.backlog, what="count deliveries", write=False)

    async def prune(self, older_than_s: float) -> int:
        db = self._db
        return await db.run(
            lambda c: notify_sql.prune(c, db.clock(c) - older_than_s), what="prune deliveries"
        )


class Sources(Facade):
    """Inventory sources (tokens encrypted, write-only) and their sync reports."""

    async def create(self, source: NewSource, *, replace: bool = False) -> SourceRecord:
        db = self._db
        return await db.run(
            lambda c: sources_sql.create_source(c, db.box, source, db.clock(c), replace=replace),
            what=f"store inventory source {source.name!r}",
        )

    async def get(self, ref: int | str, *, with_token: bool = False) -> SourceRecord:
        db = self._db
        return await db.run(
            lambda c: sources_sql.get_source(c, db.box if with_token else None, ref),
            what=f"read inventory source {ref!r}",
            write=False,
        )

    async def list(self) -> builtins.list[SourceRecord]:
        return await self._db.run(sources_sql.list_sources, what="list sources", write=False)

    async def delete(self, ref: int | str) -> None:
        await self._db.run(
            lambda c: sources_sql.delete_source(c, ref), what=f"delete source {ref!r}"
        )

    async def devices(self, source_id: int) -> builtins.list[SourceDevice]:
        return await self._db.run(
            lambda c: sources_sql.source_devices(c, source_id),
            what="list a source's devices",
            write=False,
        )

    async def owners(self, names: Sequence[str]) -> dict[str, str]:
        return await self._db.run(
            lambda c: sources_sql.owners(c, names), what="look up device owners", write=False
        )

    async def apply(
        self,
        source_id: int,
        *,
        writes: Sequence[tuple[DeviceSpec, str]],
        disables: Sequence[tuple[str, str]],
    ) -> None:
        """Write a sync's devices and disable the gone ones, in one transaction."""
        db = self._db
        await db.run(
            lambda c: sources_sql.apply_sync(
                c, db.box, source_id, writes=writes, disables=disables, now=db.clock(c)
            ),
            what="apply an inventory sync",
        )

    async def record(
        self,
        source_id: int,
        *,
        started_at: float,
        ok: bool,
        summary: str,
        error: str | None,
        requests: int,
        report: dict[str, Any],
    ) -> SyncReportRecord:
        db = self._db
        return await db.run(
            lambda c: sources_sql.record_report(
                c, source_id, started_at=started_at, ok=ok, summary=summary, error=error,
                requests=requests, report=report, now=db.clock(c),
            ),
            what="store a sync report",
        )  # fmt: skip

    async def reports(self, source_id: int, *, limit: int = 20) -> builtins.list[SyncReportRecord]:
        return await self._db.run(
            lambda c: sources_sql.reports(c, source_id, limit=max(1, min(limit, 1000))),
            what="list sync reports",
            write=False,
        )

    async def claim_due(self, *, lease_s: float) -> builtins.list[str]:
        """Names of scheduled sources due for a sync, leased to the caller."""
        db = self._db
        return await db.run(
            lambda c: sources_sql.claim_due(
                c, postgres=db.postgres, now=db.clock(c), lease_s=lease_s
            ),
            what="claim due inventory syncs",
        )

"""The notification delivery loop. Every worker process (``netfleet worker``, and the
workers embedded in ``netfleet serve``) runs one: in a child process of its own
(``worker.notify_process``, with ``[notifications] own_process``) or, by default, in
its event loop. So deliveries continue without the API, and any number of processes
share the work through leases.

Each round: raise ``worker.down`` for silent workers and ``backup.stale`` for devices
whose last good backup is older than ``[backup] stale_hours`` (once per device and
stale episode, checked every minute), fan pending outbox events out
to the matching rules (one delivery per rule and event), then claim due deliveries
and send them, ``concurrency`` at a time. A delivery is leased for
``lease_seconds``: if the process dies mid-send, another takes it over with the same
idempotency id (at least once). Retryable failures come back after an exponential
backoff (``backoff_seconds`` doubling, at most ``max_backoff_seconds``, ``Retry-After``
honoured); after ``max_attempts``, or on a permanent failure, the delivery fails
and the log says why. Nothing here runs inside a job's transaction: a slow or dead
receiver never delays a job. The loop yields to the queue work of its own process
(claims, completions: ``store.db.activity``): while those run it starts no sends and
writes nothing, for at most ``YIELD_MAX_S`` at a time, so deliveries compete neither
for the store's thread (SQLite's single writer) nor for the interpreter.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Sequence
from typing import Any

import httpx

from netfleet.core.errors import NetfleetError, SecretUnavailable
from netfleet.core.logging import get_logger
from netfleet.core.secretref import SECRETS
from netfleet.core.settings import Settings
from netfleet.core.settings_integrations import NotificationSettings
from netfleet.integrations.notify import DeliveryResult, Rule
from netfleet.integrations.notify_email import SmtpConfig, send_email
from netfleet.integrations.notify_rules import match_rule, rule_parts
from netfleet.integrations.notify_webhook import send_slack, send_webhook
from netfleet.store import SqlStore
from netfleet.store.records_integrations import (
    Attempt,
    ClaimedDelivery,
    NewRule,
    OutboxEvent,
    RuleRecord,
)

log = get_logger(__name__)
PRUNE_EVERY_S = 3600.0
WORKERS_CHECK_EVERY_S = 10.0
BACKUPS_CHECK_EVERY_S = 60.0
YIELD_SETTLE_S = 0.02
"""The loop starts sends only after the process's queue work paused this long ..."""
YIELD_MAX_S = 0.5
"""... or after waiting this long (busy queues slow deliveries down, never stop them)."""


class RuleCache:
    """Parsed rules by (id, updated_at): the fan-out matcher."""

    def __init__(self) -> None:
        self._rules: dict[tuple[int, float], Rule | None] = {}

    def _rule(self, record: RuleRecord) -> Rule | None:
        key = (record.id, record.updated_at)
        if key not in self._rules:
            try:
                self._rules[key] = match_rule(record.name, record.match)
            except NetfleetError as exc:
                log.warning("notification rule ignored", rule=record.name, error=exc.message)
                self._rules[key] = None
        return self._rules[key]

    def __call__(self, rules: Sequence[RuleRecord], event: OutboxEvent) -> list[int]:
        out = []
        for record in rules:
            rule = self._rule(record)
            if rule is not None and rule.matches(event.payload):
                out.append(record.id)
        return out


def settings_rules(settings: NotificationSettings) -> list[NewRule]:
    """The ``[[notifications.rules]]`` as rules to store (``ValidationError`` if bad)."""
    out = []
    for spec in settings.rules:
        parts = rule_parts(spec)
        out.append(
            NewRule(
                name=spec.name,
                kind=parts.kind,  # type: ignore[arg-type]
                match=parts.match,
                target=parts.target,
                secret=parts.secret,
                enabled=spec.enabled,
                origin="settings",
            )
        )
    return out


def body_of(delivery: ClaimedDelivery) -> dict[str, Any]:
    """What a receiver gets: the event, plus the delivery's id and rule."""
    return {**delivery.payload, "delivery_id": delivery.delivery_key, "rule": delivery.rule_name}


async def send(
    delivery: ClaimedDelivery, *, timeout: float, client: httpx.AsyncClient | None = None
) -> DeliveryResult:
    """One attempt at ``delivery``; no exception escapes."""
    event = body_of(delivery)
    what = f"the secret of notification rule {delivery.rule_name!r}"
    try:
        secret = await SECRETS.resolve(delivery.secret, what=what)
        if delivery.kind == "webhook":
            return await send_webhook(
                str(delivery.target.get("url", "")),
                event,
                secret=secret or "",
                delivery_id=delivery.delivery_key,
                timeout=timeout,
                client=client,
            )
        if delivery.kind == "slack":
            return await send_slack(secret or "", event, timeout=timeout, client=client)
        config = SmtpConfig(**delivery.target, password=secret)
        return await send_email(event, config, delivery_id=delivery.delivery_key)
    except SecretUnavailable as exc:
        return DeliveryResult("retryable", exc.message)
    except Exception as exc:  # a sender bug must not kill the loop
        return DeliveryResult("permanent", f"cannot send ({type(exc).__name__})")


def retry_delay(settings: NotificationSettings, attempt: int, retry_after: float | None) -> float:
    """Exponential backoff with ±20 % jitter, at least ``retry_after``, capped."""
    base = min(settings.max_backoff_seconds, settings.backoff_seconds * 2.0 ** (attempt - 1))
    delay = base * random.uniform(0.8, 1.2)
    if retry_after is not None:
        delay = max(delay, retry_after)
    return min(delay, settings.max_backoff_seconds)


async def attempt(
    delivery: ClaimedDelivery,
    settings: NotificationSettings,
    *,
    client: httpx.AsyncClient | None = None,
) -> tuple[DeliveryResult, Attempt]:
    """Send one claimed delivery; the result and what to record (retry or end)."""
    started = time.perf_counter()
    result = await send(delivery, timeout=settings.timeout_seconds, client=client)
    duration_ms = (time.perf_counter() - started) * 1000.0
    retry_in: float | None = None
    if result.retryable and delivery.attempt < settings.max_attempts:
        retry_in = retry_delay(settings, delivery.attempt, result.retry_after)
    reason = result.reason
    if result.retryable and retry_in is None:
        reason = f"{reason} (gave up after {delivery.attempt} attempts)"
    if not result.delivered:
        log.info(
            "notification not delivered",
            rule=delivery.rule_name,
            delivery=delivery.delivery_key,
            attempt=delivery.attempt,
            outcome=result.outcome,
            reason=reason,
        )
    return result, Attempt(result.outcome, result.status, reason, duration_ms, retry_in)


async def deliver(
    store: SqlStore,
    delivery: ClaimedDelivery,
    settings: NotificationSettings,
    *,
    owner: str,
    client: httpx.AsyncClient | None = None,
) -> DeliveryResult:
    """Send one claimed delivery and record the attempt (and its retry or end)."""
    result, record = await attempt(delivery, settings, client=client)
    await store.notifications.finish_many(owner, [(delivery, record)])
    return result


class NotificationLoop:
    """Fan-out and delivery for one process (see the module docstring)."""

    def __init__(
        self,
        store: SqlStore,
        settings: NotificationSettings,
        *,
        owner: str,
        backup_stale_s: float | None = None,
    ) -> None:
        self.store = store
        self.settings = settings
        self.owner = owner
        self.backup_stale_s = backup_stale_s
        """``[backup] stale_hours`` in seconds: raise ``backup.stale`` (None: never)."""
        self.matcher = RuleCache()
        self.delivered = 0
        self._last_prune = 0.0
        self._last_workers_check = -WORKERS_CHECK_EVERY_S
        self._last_backups_check = -BACKUPS_CHECK_EVERY_S

    async def apply_settings(self) -> None:
        """Store the rules of the settings (errors are logged: the loop still runs)."""
        try:
            names = await self.store.notifications.sync_settings(settings_rules(self.settings))
        except NetfleetError as exc:
            log.error("notification rules in the settings not applied", error=exc.message)
            return
        if names:
            log.info("notification rules from the settings", rules=names)

    async def _maintain(self) -> None:
        """worker.down and backup.stale detection and pruning, each on its own slow clock."""
        s, now = self.settings, time.monotonic()
        if now - self._last_workers_check >= WORKERS_CHECK_EVERY_S:
            self._last_workers_check = now
            await self.store.notifications.detect_workers_down(s.worker_down_after_seconds)
        stale_s = self.backup_stale_s
        if stale_s is not None and now - self._last_backups_check >= BACKUPS_CHECK_EVERY_S:
            self._last_backups_check = now
            while await self.store.notifications.detect_backups_stale(stale_s):
                pass
        if s.retention_days > 0 and now - self._last_prune > PRUNE_EVERY_S:
            self._last_prune = now
            await self.store.notifications.prune(s.retention_days * 86_400.0)

    async def _refill(
        self, client: httpx.AsyncClient, inflight: dict[asyncio.Task[Any], ClaimedDelivery]
    ) -> int:
        """Fan out new events and claim deliveries for the free slots; how many claimed."""
        free = self.settings.concurrency - len(inflight)
        if free <= 0:
            return 0
        batch = await self.store.notifications.fan_out_and_claim(
            self.matcher, self.owner, lease_s=self.settings.lease_seconds, limit=free
        )
        for d in batch:
            inflight[asyncio.create_task(attempt(d, self.settings, client=client))] = d
        return len(batch)

    async def _record(
        self, done: set[asyncio.Task[Any]], inflight: dict[asyncio.Task[Any], ClaimedDelivery]
    ) -> None:
        """Record finished attempts in one transaction."""
        results = [(inflight.pop(t), t.result()) for t in done]
        await self.store.notifications.finish_many(self.owner, [(d, a) for d, (_, a) in results])
        self.delivered += sum(1 for _, (r, _) in results if r.delivered)

    async def _yield(self) -> None:
        """The queue first: start no sends and write nothing while this process claims
        or completes tasks (for at most ``YIELD_MAX_S``)."""
        await self.store.db.activity.quiet(YIELD_SETTLE_S, YIELD_MAX_S)

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until ``stop`` is set: up to ``concurrency`` sends in flight, refilled
        as they finish; store errors are logged and retried. On stop, sends in flight
        finish (bounded by ``timeout_seconds``) and are recorded."""
        await self.apply_settings()
        inflight: dict[asyncio.Task[Any], ClaimedDelivery] = {}
        stopping = asyncio.ensure_future(stop.wait())
        async with httpx.AsyncClient(follow_redirects=False) as client:
            try:
                half = max(1, self.settings.concurrency // 2)
                while not stop.is_set():
                    await self._yield()
                    claimed = 0
                    if len(inflight) < half:  # refill in batches: fewer transactions
                        try:
                            await self._maintain()
                            claimed = await self._refill(client, inflight)
                        except NetfleetError as exc:
                            log.warning("notification round failed", error=exc.message)
                        if claimed and len(inflight) < half:
                            continue  # more may be due right now
                    timeout = None if claimed else self.settings.poll_seconds
                    await asyncio.wait(
                        {stopping, *inflight}, timeout=timeout, return_when="FIRST_COMPLETED"
                    )
                    if any(t.done() for t in inflight):
                        await self._yield()
                        done = {t for t in inflight if t.done()}
                        with contextlib.suppress(NetfleetError):
                            await self._record(done, inflight)
            finally:
                stopping.cancel()
                if inflight:
                    await asyncio.wait(set(inflight))
                    with contextlib.suppress(NetfleetError):
                        await self._record(set(inflight), inflight)


def integration_loops(
    store: SqlStore,
    settings: Settings,
    *,
    owner: str,
) -> tuple[Any, ...]:
    """The background loops of the integrations for a worker process: notification
    deliveries (unless ``[notifications] deliver`` is off; in a process of their own
    if ``own_process``; with ``backup.stale`` detection after ``[backup]
    stale_hours``) and scheduled inventory syncs."""
    from netfleet.worker.notify_process import NotifyProcess
    from netfleet.worker.source_sync import SourceSyncLoop

    loops: list[Any] = [SourceSyncLoop(store).run]
    notify = settings.notifications
    stale_s = settings.backup.stale_hours * 3600.0
    own = bool(notify.own_process)  # unset: in-process, where the loop yields to the queue
    if notify.deliver and own:
        loops.append(NotifyProcess(store, settings, owner=owner, backup_stale_s=stale_s).run)
    elif notify.deliver:
        loops.append(NotificationLoop(store, notify, owner=owner, backup_stale_s=stale_s).run)
    return tuple(loops)

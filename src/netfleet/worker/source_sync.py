"""Inventory syncs from NetBox/Nautobot sources into the store.

``sync_source(store, name)`` reads the source (``integrations.netbox``), plans the
changes (``integrations.sync.plan_sync``) against the devices this source brought in
before, writes them in one transaction and stores a report: added, updated, removed
(disabled, not deleted) and skipped devices, each with its reason. A device that
exists already without a source is adopted (netfleet's credentials and limits are
kept); one that another source brought in is skipped. New devices get the source's
``credentials`` (names of stored credentials).

``SourceSyncLoop`` runs the scheduled syncs (sources with ``interval_seconds``)
inside the worker processes; a lease gives each due source to one process.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from typing import Any

from pydantic import ValidationError as PydanticValidationError

from netfleet.core.errors import IntegrationError, NetfleetError, NotFound
from netfleet.core.logging import get_logger
from netfleet.core.models import Credential
from netfleet.integrations.netbox import Skipped, SourceConfig, fetch_source
from netfleet.integrations.sync import CurrentDevice, plan_sync
from netfleet.store import SqlStore
from netfleet.store.records_integrations import SourceRecord, SyncReportRecord

log = get_logger(__name__)
SYNC_LEASE_S = 900.0


def source_config(record: SourceRecord) -> SourceConfig:
    """The stored source as a ``SourceConfig`` (with its token, if read with it)."""
    fields = {k: v for k, v in record.config.items() if k not in ("credentials",)}
    try:
        return SourceConfig(name=record.name, kind=record.kind, token=record.token or "", **fields)
    except PydanticValidationError as exc:
        raise IntegrationError(f"source {record.name!r}: stored config is invalid: {exc}") from None


async def _check_credentials(store: SqlStore, names: list[str], source: str) -> None:
    known = {c.name for c in await store.credentials.list()}
    missing = [n for n in names if n not in known]
    if missing:
        raise IntegrationError(f"source {source!r}: unknown credential(s) {', '.join(missing)}")


async def sync_source(store: SqlStore, name: str) -> SyncReportRecord:
    """Sync source ``name`` now (see the module docstring); ``NotFound`` if there is
    none. A failed read is stored as a failed report (nothing changed) and returned."""
    record = await store.sources.get(name, with_token=True)
    started = await store.now()
    requests = 0
    try:
        config = source_config(record)
        creds = [str(n) for n in record.config.get("credentials") or []]
        await _check_credentials(store, creds, name)
        fetched = await fetch_source(config)
        requests = fetched.requests
        report, writes, disables = await _plan(store, record, fetched.devices, fetched.skipped,
                                               creds)  # fmt: skip
        await store.sources.apply(record.id, writes=writes, disables=disables)
    except NetfleetError as exc:
        log.warning("inventory sync failed", source=name, error=exc.message)
        return await store.sources.record(
            record.id, started_at=started, ok=False, summary="failed: nothing changed",
            error=exc.message, requests=requests, report={},
        )  # fmt: skip
    log.info("inventory synced", source=name, summary=report["summary"], requests=requests)
    return await store.sources.record(
        record.id, started_at=started, ok=True, summary=report["summary"], error=None,
        requests=requests, report=report,
    )  # fmt: skip


async def _plan(
    store: SqlStore,
    record: SourceRecord,
    upstream: list[Any],
    skipped_upstream: list[Skipped],
    creds: list[str],
) -> tuple[dict[str, Any], list[Any], list[tuple[str, str]]]:
    mine = await store.sources.devices(record.id)
    owners = await store.sources.owners([s.name for s in upstream])
    current = [CurrentDevice(d.record.spec, d.disabled) for d in mine]
    specs, skipped = [], list(skipped_upstream)
    adopted: dict[str, Any] = {}
    defaults = tuple(Credential(username="", name=n) for n in creds)
    for spec in upstream:
        owner = owners.get(spec.name)
        if owner and owner != record.name:
            skipped.append(Skipped(spec.name, f"belongs to inventory source {owner!r}"))
            continue
        if owner == "":  # a manual device of that name: adopt it, keep what netfleet owns
            with contextlib.suppress(NotFound):
                adopted[spec.name] = (await store.devices.get(spec.name)).spec
                current.append(CurrentDevice(adopted[spec.name]))
        elif owner is None and defaults:
            spec = dataclasses.replace(spec, credentials=defaults)
        specs.append(spec)
    plan = plan_sync(current, specs, skipped, source=record.name)
    ids = {s.name: str(s.data.get(record.kind, {}).get("id", "")) for s in specs}
    writes = [(c.spec, ids.get(c.name, "")) for c in [*plan.added, *plan.updated] if c.spec]
    written = {spec.name for spec, _ in writes}
    writes += [(spec, ids.get(n, "")) for n, spec in adopted.items() if n not in written]
    disables = [(c.name, c.reason) for c in plan.removed]
    return {**plan.to_dict(), "summary": plan.summary()}, writes, disables


class SourceSyncLoop:
    """Scheduled syncs: every ``poll_s``, sync the due sources this process leased."""

    def __init__(self, store: SqlStore, *, poll_s: float = 15.0) -> None:
        self.store = store
        self.poll_s = poll_s
        self.rounds = 0

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            self.rounds += 1
            try:
                for name in await self.store.sources.claim_due(lease_s=SYNC_LEASE_S):
                    await sync_source(self.store, name)
            except NetfleetError as exc:
                log.warning("scheduled inventory sync failed", error=exc.message)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.poll_s):
                    await stop.wait()

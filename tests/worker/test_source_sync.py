"""Scheduled inventory syncs in the workers, against the NetBox-shaped loopback service
(tests/support/netbox_service.py): a due source is synced by one loop, then again only
after its interval."""

from __future__ import annotations

import asyncio

import pytest

from netfleet.store import SqlStore
from netfleet.store.records_integrations import NewSource
from netfleet.worker.source_sync import SourceSyncLoop
from tests.support.netbox_service import fixture_service, netbox_device
from tests.support.worker import eventually


@pytest.fixture
def store(empty_store: SqlStore) -> SqlStore:
    """These loops need no fleet: the directory's SQLite store without devices."""
    return empty_store


async def test_due_sources_sync_once_per_interval(store: SqlStore) -> None:
    with fixture_service() as svc:
        svc.devices = [netbox_device(svc.base, i) for i in range(1, 4)]
        await store.sources.create(
            NewSource("nb", "netbox", {"url": svc.base}, svc.token, interval_s=3600)
        )
        source = await store.sources.get("nb")
        loops = [SourceSyncLoop(store, poll_s=0.05), SourceSyncLoop(store, poll_s=0.05)]
        stop = asyncio.Event()
        tasks = [asyncio.create_task(loop.run(stop)) for loop in loops]
        try:

            async def synced() -> bool:
                return bool(await store.sources.reports(source.id))

            await eventually(synced, timeout=60, what="the scheduled sync")
            # Both loops keep polling: the source is not due again for an hour.
            polls = svc.requests
            start = [loop.rounds for loop in loops]

            async def polled() -> bool:
                return all(loop.rounds >= n + 3 for loop, n in zip(loops, start, strict=True))

            await eventually(polled, timeout=60, what="more polling rounds")
        finally:
            stop.set()
            await asyncio.gather(*tasks)
    (report,) = await store.sources.reports(source.id)
    assert report.ok
    assert report.summary.startswith("3 added")
    assert svc.requests == polls  # no second sync
    after = await store.sources.get("nb")
    assert after.next_sync_at is not None
    assert after.last_sync_at is not None
    assert after.next_sync_at - after.last_sync_at == pytest.approx(3600)

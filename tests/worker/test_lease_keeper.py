"""The lease keeper's hold fence: holds are untrusted from the moment it fires until a
heartbeat gets through in time again (a fake store: no database needed)."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any, cast

from netfleet.store import SqlStore
from netfleet.store.records import HeartbeatResult
from netfleet.worker.attempts import RunningTasks
from netfleet.worker.leases import LeaseKeeper
from netfleet.worker.stats import WorkerStats

LEASE_S = 0.2
"""Holds are surely live for half a lease less a margin after a heartbeat: 0.08 s."""


class FakeStore:
    """Heartbeats that take ``delay`` seconds (a slow database) or fail."""

    def __init__(self) -> None:
        self.delay = 0.0
        self.claims = SimpleNamespace(heartbeat=self._claims_heartbeat)
        self.workers = SimpleNamespace(heartbeat=self._workers_heartbeat)

    async def _claims_heartbeat(self, *_: Any, **__: Any) -> HeartbeatResult:
        await asyncio.sleep(self.delay)
        return HeartbeatResult(frozenset(), frozenset(), frozenset())

    async def _workers_heartbeat(self, *_: Any, **__: Any) -> None:
        return None


def keeper(store: FakeStore, expired: list[int]) -> LeaseKeeper:
    return LeaseKeeper(
        cast(SqlStore, store),
        "w",
        RunningTasks(),
        WorkerStats(),
        lease_s=LEASE_S,
        interval_s=0.05,
        state=lambda: "running",
        snapshot=dict,
        holds_expired=lambda: expired.append(1),
    )


async def test_holds_are_untrusted_from_the_fence_until_a_timely_heartbeat() -> None:
    store, expired = FakeStore(), list[int]()
    keys = keeper(store, expired)
    assert keys.holds_trusted()
    keys.holds_until = 0.0  # no heartbeat for half a lease
    keys.fence()
    assert expired == [1]
    assert not keys.holds_trusted()
    keys.fence()
    assert expired == [1]  # once per outage
    assert await keys.beat()
    assert keys.holds_trusted()


async def test_a_heartbeat_sent_before_the_fence_does_not_restore_trust() -> None:
    store, expired = FakeStore(), list[int]()
    keys = keeper(store, expired)
    store.delay = LEASE_S  # it lands after its holds may have expired
    assert await keys.beat()
    assert expired == [1]  # renewed too late: the holds it renewed may be gone
    assert not keys.holds_trusted()
    store.delay = 0.0
    assert await keys.beat()
    assert keys.holds_trusted()

"""The lease keeper's hold fence: holds are untrusted from the moment it fires until a
heartbeat gets through in time again (a fake store: no database needed)."""

from __future__ import annotations

import asyncio
import time
from types import SimpleNamespace
from typing import Any, cast

from netfleet.store import SqlStore
from netfleet.store.records import ClaimedTask, HeartbeatResult
from netfleet.worker.attempts import RunningTask, RunningTasks
from netfleet.worker.leases import LeaseKeeper
from netfleet.worker.stats import WorkerStats
from tests.support.worker import eventually

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


def keeper(
    store: FakeStore,
    expired: list[int],
    *,
    lease_s: float = LEASE_S,
    running: RunningTasks | None = None,
    stats: WorkerStats | None = None,
) -> LeaseKeeper:
    return LeaseKeeper(
        cast(SqlStore, store),
        "w",
        RunningTasks() if running is None else running,
        WorkerStats() if stats is None else stats,
        lease_s=lease_s,
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


def running_task(task_id: int) -> RunningTask:
    claimed = SimpleNamespace(task_id=task_id, job_id=1, device=SimpleNamespace(name="d1"))
    return RunningTask(cast(ClaimedTask, claimed), phase="starting")


async def test_a_fence_past_its_margin_is_counted_late() -> None:
    store, expired = FakeStore(), list[int]()
    attempts, stats = RunningTasks(), WorkerStats()
    keys = keeper(store, expired, lease_s=20.0, running=attempts, stats=stats)  # margin 2 s
    keys.holds_until = float("inf")
    # In time: the fence runs at its point, before the store could expire the lease.
    attempts.add(running_task(1))
    keys.lease_until[1] = time.monotonic()
    keys.fence()
    assert (stats.fenced, stats.fenced_late) == (1, 0)
    # Late: the process did not run from the fence point until past the margin (a
    # pause, CPU starvation); the store may have freed the slot under the session.
    attempts.add(running_task(2))
    keys.lease_until[2] = time.monotonic() - keys.margin_s - 1.0
    keys._last_fence = keys.lease_until[2] - 1.0  # it did not run since before its point
    keys.fence()
    assert (stats.fenced, stats.fenced_late) == (2, 1)
    assert stats.fence_late_max_s >= keys.margin_s + 1.0
    # The holds' fence counts the same way.
    keys.holds_until = time.monotonic() - keys.margin_s - 1.0
    keys._last_fence = keys.holds_until - 1.0  # it did not run since before its point
    keys.fence()
    assert stats.fenced_late == 2
    assert expired == [1]
    # A point set in the past after the fence's last run (a reply that came back late)
    # is not a late fence: the fence ran as soon as it could.
    attempts.add(running_task(3))
    keys.lease_until[3] = time.monotonic() - keys.margin_s - 1.0
    keys.fence()
    assert (stats.fenced, stats.fenced_late) == (3, 2)


async def test_the_fence_timer_records_how_late_the_loop_ran_it() -> None:
    store, expired = FakeStore(), list[int]()
    stats = WorkerStats()
    keys = keeper(store, expired, stats=stats)
    stop = asyncio.Event()
    beating = asyncio.create_task(keys.run(stop))
    await asyncio.sleep(0)  # the timer is armed
    blocked_s = 2 * keys.tick_s + 0.1
    time.sleep(blocked_s)  # noqa: ASYNC251 -- the loop blocked (the test's subject)

    async def lag_seen() -> bool:
        return stats.loop_lag_max_s >= blocked_s - keys.tick_s

    await eventually(lag_seen, timeout=10, what="the timer's lag recorded")
    stop.set()
    await beating

"""The delivery loop in a process of its own (``worker.notify_process``, when
``[notifications] own_process`` is true): deliveries
come from the child, a graceful stop records the sends in flight, a SIGKILLed child is
restarted and its delivery taken over (one effect), and the child dies with a
SIGKILLed worker."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from netfleet.core.settings import Settings
from netfleet.core.settings_integrations import NotificationSettings
from netfleet.store import SqlStore
from netfleet.store.records_integrations import NewRule
from netfleet.worker.notify_loop import integration_loops
from netfleet.worker.notify_process import NotifyProcess
from tests.support.receivers import Receiver, webhook_receiver
from tests.support.worker import SECRET_KEY, Fleet, eventually, open_test_store

SECRET = "whsec-proc-51d0b3e9"


@pytest.fixture
def store(empty_store: SqlStore) -> SqlStore:
    """These loops need no fleet: the directory's SQLite store without devices."""
    return empty_store


def _settings(**notify: float) -> Settings:
    fast = {"poll_seconds": 0.05, "backoff_seconds": 0.05, "max_backoff_seconds": 0.2}
    return Settings(
        secret_key=SECRET_KEY, notifications=NotificationSettings.model_validate(fast | notify)
    )


async def _rule(store: SqlStore, url: str) -> None:
    await store.notifications.create(
        NewRule("ops", "webhook", {"events": ["job.failed"]}, {"url": url}, SECRET)
    )


def _effects(rx: Receiver) -> int:
    with rx.lock:
        return len(rx.effects)


def _check(fn: Callable[[], bool]) -> Callable[[], Awaitable[bool]]:
    async def run() -> bool:
        return fn()

    return run


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return Path(f"/proc/{pid}/stat").exists() and " Z " in Path(f"/proc/{pid}/stat").read_text()


async def test_the_child_delivers_and_stops_gracefully(store: SqlStore) -> None:
    with webhook_receiver(SECRET) as rx:
        await _rule(store, rx.url)
        for n in range(3):
            await store.notifications.emit("job.finished", {"status": "failed", "n": n})
        proc = NotifyProcess(store, _settings(), owner="np")
        stop = asyncio.Event()
        task = asyncio.create_task(proc.run(stop))
        try:
            await eventually(_check(lambda: _effects(rx) == 3), timeout=60, what="3 effects")
            child = proc.pid
            assert child is not None
            assert child != os.getpid()
        finally:
            stop.set()
            await asyncio.wait_for(task, timeout=60)
        assert proc.pid is None
        assert proc.starts == 1
        assert _gone(child)
        assert all(rx.verified)
        states = [d.state for d in await store.notifications.deliveries()]
        assert states == ["delivered"] * 3  # recorded by the child before it exited


async def test_a_killed_child_is_restarted_and_its_delivery_taken_over(store: SqlStore) -> None:
    with webhook_receiver(SECRET) as rx:
        rx.hold_first = 1  # acts on the first delivery, then never answers it
        await _rule(store, rx.url)
        for n in range(2):
            await store.notifications.emit("job.finished", {"status": "failed", "n": n})
        proc = NotifyProcess(store, _settings(lease_seconds=2.0), owner="np")
        stop = asyncio.Event()
        task = asyncio.create_task(proc.run(stop))
        try:

            def held() -> bool:
                with rx.lock:
                    return bool(rx.received) and rx.hold_first == 0

            await eventually(_check(held), timeout=60, what="the first delivery in flight")
            assert proc.pid is not None
            os.kill(proc.pid, signal.SIGKILL)
            rx.release.set()

            async def delivered() -> bool:
                states = [d.state for d in await store.notifications.deliveries()]
                return states == ["delivered"] * 2

            await eventually(delivered, timeout=90, what="both deliveries, after the kill")
            assert proc.starts == 2
        finally:
            stop.set()
            await asyncio.wait_for(task, timeout=60)
        with rx.lock:
            keys = [h["X-Netfleet-Delivery"] for h, _ in rx.received]
            assert len(rx.effects) == 2  # one effect per delivery
            assert len(keys) > len(set(keys))  # the in-flight one was sent again


def test_the_loop_runs_in_its_own_process_only_when_asked(store: SqlStore) -> None:
    def kinds(own: bool | None) -> list[str]:
        settings = _settings()
        settings.notifications.own_process = own
        loops = integration_loops(store, settings, owner="np")
        return [getattr(loop, "__qualname__", "") for loop in loops]

    assert store.dialect == "sqlite"
    assert kinds(None) == ["SourceSyncLoop.run", "NotificationLoop.run"]
    assert kinds(True) == ["SourceSyncLoop.run", "NotifyProcess.run"]
    assert kinds(False) == ["SourceSyncLoop.run", "NotificationLoop.run"]


async def test_postgresql_runs_the_loop_in_process_unless_asked(pg_url: str) -> None:
    store = await open_test_store(pg_url)
    try:
        loops = integration_loops(store, _settings(), owner="np")
        assert [getattr(loop, "__qualname__", "") for loop in loops][-1] == "NotificationLoop.run"
    finally:
        await store.close()


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
async def test_the_child_dies_with_a_killed_worker(
    tmp_path: Path, fleet_factory: list[Fleet]
) -> None:
    env = {"NETFLEET_NOTIFICATIONS__OWN_PROCESS": "true"}  # SQLite's default is in-process
    fleet = Fleet(f"sqlite:///{tmp_path / 'netfleet.db'}", tmp_path, env)
    fleet_factory.append(fleet)
    worker = fleet.start("w")
    found: list[int] = []

    def started() -> bool:
        found[:] = _children(worker.proc.pid)
        return bool(found)

    await eventually(_check(started), timeout=60, what="the worker's notification process")
    worker.kill()
    await eventually(_check(lambda: all(_gone(p) for p in found)), timeout=30, what="it died")

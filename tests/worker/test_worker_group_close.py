"""A stopping worker group gives back its session holds, through a brief outage too."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest

from netfleet.core.errors import DatabaseUnavailable, InputError
from netfleet.worker import process
from netfleet.worker.process import WorkerGroup


class Holds:
    def __init__(self, failures: list[Exception]) -> None:
        self.failures = failures
        self.calls: list[str] = []

    async def release(self, worker_id: str) -> int:
        self.calls.append(worker_id)
        if self.failures:
            raise self.failures.pop(0)
        return 1


def group(holds: Holds) -> WorkerGroup:
    async def closed(**_: Any) -> None:
        return None

    pool: Any = SimpleNamespace(close=closed)
    executor: Any = SimpleNamespace(close=closed)
    store: Any = SimpleNamespace(holds=holds)
    workers: Any = [SimpleNamespace(worker_id="w1")]
    return WorkerGroup(store, pool, executor, workers)


def test_holds_are_given_back_after_the_store_comes_back() -> None:
    holds = Holds([DatabaseUnavailable("down"), DatabaseUnavailable("down")])
    asyncio.run(group(holds).close())
    assert holds.calls == ["w1", "w1", "w1"]


def test_a_store_down_for_good_leaves_the_holds_to_expire(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(process, "RELEASE_RETRY_S", 0.5)
    holds = Holds([DatabaseUnavailable("down")] * 50)
    asyncio.run(group(holds).close())
    assert 1 < len(holds.calls) < 50


def test_a_permanent_error_is_not_retried() -> None:
    holds = Holds([InputError("no such worker")])
    asyncio.run(group(holds).close())
    assert holds.calls == ["w1"]

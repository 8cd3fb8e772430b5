"""The registry of task attempts a worker is running, and why one is being stopped."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal

from netfleet.store.records import ClaimedTask

StopReason = Literal["cancel", "lost", "shutdown", "deadline"]
"""Why a running attempt is stopped early:

- ``cancel``: a user cancelled the task (seen through a heartbeat) → ``cancelled``;
- ``lost``: the lease is not ours any more → drop the result, report nothing;
- ``shutdown``: the drain timeout passed → hand the task back to the queue;
- ``deadline``: the task's deadline passed → ``failed``.
"""
Phase = Literal["starting", "executing", "completing", "done"]


@dataclass(slots=True, eq=False)
class RunningTask:
    """One claimed attempt in this worker."""

    claimed: ClaimedTask
    task: asyncio.Task[None] | None = None
    phase: Phase = "starting"
    stop_reason: StopReason | None = None
    started: float = field(default_factory=time.monotonic)

    @property
    def task_id(self) -> int:
        return self.claimed.task_id

    def stop(self, reason: StopReason) -> bool:
        """Ask the attempt to stop for ``reason`` (the first reason wins).

        The coroutine is cancelled only while it talks to the device. Before that,
        the attempt sees the reason and does not start; once it is reporting its
        result, the reason is only recorded (``lost`` then stops report retries).
        Returns whether the coroutine was cancelled.
        """
        if self.stop_reason is None:
            self.stop_reason = reason
        if self.phase == "executing" and self.task is not None:
            return self.task.cancel(f"netfleet: {self.stop_reason}")
        return False


class RunningTasks:
    """Attempts by task id; tells the claim loop when a slot frees up."""

    def __init__(self) -> None:
        self._by_id: dict[int, RunningTask] = {}
        self.slot_freed = asyncio.Event()
        self.empty = asyncio.Event()
        self.empty.set()

    def __len__(self) -> int:
        return len(self._by_id)

    def __iter__(self) -> Iterator[RunningTask]:
        return iter(list(self._by_id.values()))

    def __contains__(self, task_id: object) -> bool:
        return task_id in self._by_id

    def add(self, running: RunningTask) -> None:
        self._by_id[running.task_id] = running
        self.empty.clear()

    def get(self, task_id: int) -> RunningTask | None:
        return self._by_id.get(task_id)

    def remove(self, running: RunningTask) -> None:
        if self._by_id.get(running.task_id) is running:
            del self._by_id[running.task_id]
            self.slot_freed.set()
            if not self._by_id:
                self.empty.set()

    def ids(self) -> list[int]:
        return list(self._by_id)

    def stop_all(self, reason: StopReason) -> int:
        """Stop every attempt for ``reason``; returns how many were cancelled."""
        return sum(1 for running in self if running.stop(reason))

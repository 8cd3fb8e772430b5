"""``wait_any``: a cancel of the waiting task is never swallowed, whenever it comes."""

from __future__ import annotations

import asyncio

import pytest

from netfleet.worker.waiting import sleep_unless, wait_any

PATIENCE_S = 30.0
"""A bound on a cancelled task's end (it takes a few loop steps; never a timing claim)."""


async def _yield(times: int) -> None:
    for _ in range(times):
        await asyncio.sleep(0)


async def _ended(task: asyncio.Task[object]) -> None:
    """Wait for a cancelled ``task`` to end; a swallowed cancel would loop on forever."""
    await asyncio.wait([task], timeout=PATIENCE_S)
    assert task.done(), "the cancel was swallowed: the task runs on"


@pytest.mark.parametrize("steps", range(8))
async def test_a_cancel_at_any_step_after_an_event_is_set_propagates(steps: int) -> None:
    # One event set, the other's waiter still to be cancelled: the window in which a
    # cancel used to be swallowed lies a few loop steps after the set.
    first, second = asyncio.Event(), asyncio.Event()
    task = asyncio.create_task(wait_any(first, second, timeout=None))
    await _yield(1)
    first.set()
    await _yield(steps)
    cancelled = task.cancel()
    await _ended(task)
    outcome = await asyncio.gather(task, return_exceptions=True)
    if cancelled:
        assert isinstance(outcome[0], asyncio.CancelledError), f"cancel swallowed: {outcome}"
    else:
        assert outcome == [True]


async def test_a_loop_around_sleep_unless_ends_when_cancelled() -> None:
    stop = asyncio.Event()
    rounds = 0

    async def beat() -> None:
        nonlocal rounds
        while not await sleep_unless(stop, 0):
            rounds += 1

    task = asyncio.create_task(beat())
    for steps in range(1, 12):  # cancel at every step of the first rounds
        await _yield(steps)
        if task.done():
            break
        task.cancel()
        await _ended(task)
        assert task.cancelled(), f"cancel at step {steps} swallowed"
        task = asyncio.create_task(beat())
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert rounds > 0

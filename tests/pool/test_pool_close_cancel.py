"""``close()``: a cancel of the closing task is not swallowed while the reaper ends."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from netfleet.device import Device
from netfleet.pool import SessionPool

MakePool = Callable[..., SessionPool[Device]]


@pytest.mark.parametrize("steps", range(4))
async def test_a_cancel_while_the_reaper_ends_propagates(make_pool: MakePool, steps: int) -> None:
    pool = make_pool(reaper_interval_s=60)
    pool.start()
    await asyncio.sleep(0)  # the reaper sleeps in its interval
    closing = asyncio.create_task(pool.close())
    for _ in range(steps):
        await asyncio.sleep(0)
    cancelled = closing.cancel()
    outcome = await asyncio.gather(closing, return_exceptions=True)
    if cancelled:
        assert isinstance(outcome[0], asyncio.CancelledError), f"cancel swallowed: {outcome}"
    else:
        assert outcome == [None]

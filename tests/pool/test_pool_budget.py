"""An outside budget (the store's count of a worker's sessions) limits a device's sessions;
the pool reports each session's slot after its close has finished."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable

import pytest

from netfleet.core.errors import PoolTimeout
from netfleet.core.models import DeviceSpec
from netfleet.device import Device
from netfleet.pool import SessionPool
from netfleet_sim import Simulator

MakePool = Callable[..., SessionPool[Device]]
Eventually = Callable[..., Awaitable[None]]


async def test_budget_limits_sessions_and_frees_are_reported_after_close(
    sim: Simulator, specs: list[DeviceSpec], make_pool: MakePool, eventually: Eventually
) -> None:
    pool = make_pool(reuse_wait_factor=0)
    spec = dataclasses.replace(specs[0], max_sessions=3)
    budget = {spec.name: 1}
    freed: list[tuple[str, int]] = []
    pool.bind_budget(
        lambda name: budget.get(name, 0),
        lambda name: freed.append((name, pool.sessions(name))),
    )
    sim.reset_stats()

    async def job() -> None:
        async with pool.lease(spec) as lease:
            await lease.session.send_command("show clock")
            await asyncio.sleep(0.01)

    await asyncio.gather(*(job() for _ in range(6)))
    assert sim.device(spec.name).stats.peak_sessions == 1  # max_sessions 3, budget 1
    assert pool.sessions(spec.name) == 1  # the idle session
    # At budget, the idle session is still handed out (no new session) ...
    async with pool.lease(spec) as lease:
        assert lease.reused
    # ... but a checkout that would need another session waits, and times out.
    budget[spec.name] = 0
    with pytest.raises(PoolTimeout):
        await pool.checkout(spec, options="other key", timeout=0.3)
    assert sim.device(spec.name).stats.logins == 1
    assert sim.device(spec.name).stats.peak_sessions == 1
    freed.clear()
    assert pool.sessions(spec.name) == 0  # its idle session was closed to make room
    await eventually(lambda: sim.device(spec.name).stats.sessions_open == 0)
    # Closing an idle session reports its slot once the close has finished.
    budget[spec.name] = 1
    async with pool.lease(spec):
        pass
    freed.clear()
    assert pool.close_idle(spec.name) == 1
    await eventually(lambda: bool(freed))
    assert freed == [(spec.name, 0)]  # reported once the slot is free, not before
    assert pool.sessions(spec.name) == 0


async def test_over_budget_checkout_with_another_key_closes_the_idle_session_first(
    sim: Simulator,
    specs: list[DeviceSpec],
    make_pool: MakePool,
    with_password: Callable[[DeviceSpec, str], DeviceSpec],
) -> None:
    pool = make_pool(reuse_wait_factor=0)
    spec = dataclasses.replace(specs[0], max_sessions=3)
    pool.bind_budget(lambda name: 1)
    sim.reset_stats()
    async with pool.lease(spec, options="a"):
        pass
    async with pool.lease(spec, options="b") as lease:  # another key: no reuse
        assert not lease.reused
    stats = sim.device(spec.name).stats
    assert stats.logins == 2
    assert stats.peak_sessions == 1


async def test_close_idle_keeps_the_sessions_still_counted(
    sim: Simulator, specs: list[DeviceSpec], make_pool: MakePool
) -> None:
    pool = make_pool(reuse_wait_factor=0)
    spec = dataclasses.replace(specs[0], max_sessions=3)
    a = await pool.checkout(spec)
    b = await pool.checkout(spec)
    c = await pool.checkout(spec)
    for lease in (a, b):
        await pool.release(lease)
    # Three sessions (two idle, one in use); the counter allows two: one idle one closes.
    assert pool.close_idle(spec.name, keep=2) == 1
    assert pool.stats().devices[spec.name].idle == 1
    assert await pool.until_at_most(spec.name, 2)
    assert pool.sessions(spec.name) == 2
    assert pool.close_idle(spec.name, keep=2) == 0
    # Only idle sessions close: the one in use stays whatever ``keep`` says.
    assert pool.close_idle(spec.name, keep=0) == 1
    assert await pool.until_at_most(spec.name, 1)
    assert sim.device(spec.name).stats.sessions_open == 1
    await pool.release(c)

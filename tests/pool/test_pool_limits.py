"""Limits and waiters: per-device and global maximums, FIFO fairness, timeouts, cancellation."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable

import pytest

from netfleet.core.errors import PoolFull, PoolTimeout
from netfleet.core.models import DeviceSpec
from netfleet.device import Device
from netfleet.pool import SessionPool
from netfleet_sim import Simulator

MakePool = Callable[..., SessionPool[Device]]
Eventually = Callable[..., Awaitable[None]]


async def _job(pool: SessionPool[Device], spec: DeviceSpec, *, hold: float = 0.0) -> bool:
    async with pool.lease(spec) as lease:
        result = await lease.session.send_command("show clock")
        assert result.ok
        if hold:
            await asyncio.sleep(hold)
        return bool(lease.reused)


async def test_concurrent_checkouts_never_exceed_max_sessions(
    sim: Simulator, specs: list[DeviceSpec], make_pool: MakePool, eventually: Eventually
) -> None:
    pool = make_pool(reuse_wait_factor=0)  # open a second session rather than wait
    limited = [dataclasses.replace(s, max_sessions=2) for s in specs]
    sim.reset_stats()
    await asyncio.gather(*(_job(pool, limited[i % 3], hold=0.005) for i in range(60)))
    for spec in limited:
        device_stats = sim.device(spec.name).stats
        assert device_stats.peak_sessions == 2  # checked on the device's side
        assert device_stats.logins == 2
    total = pool.stats().total
    assert (total.checkouts, total.logins, total.reuses) == (60, 6, 54)
    assert total.reuse_rate == pytest.approx(0.9)
    assert total.login_seconds.count == 6
    assert sum(total.login_seconds.counts) == 6
    assert total.login_seconds.mean > 0
    assert total.idle == 6
    assert total.in_use == 0


async def test_global_maximum_evicts_idle_sessions_of_other_devices(
    sim: Simulator, specs: list[DeviceSpec], make_pool: MakePool, eventually: Eventually
) -> None:
    pool = make_pool(max_total=2)
    peak = 0
    stop = asyncio.Event()

    async def sample() -> None:
        nonlocal peak
        while not stop.is_set():
            peak = max(peak, sum(d.stats.sessions_open for d in sim.devices))
            await asyncio.sleep(0.001)

    sampler = asyncio.create_task(sample())
    await asyncio.gather(*(_job(pool, specs[i % 3], hold=0.005) for i in range(30)))
    stop.set()
    await sampler
    assert peak <= 2
    stats = pool.stats()
    assert stats.total.sessions_open <= 2
    assert stats.total.evictions.get("make_room", 0) >= 1
    assert stats.total.checkouts == 30


async def test_waiters_are_served_first_come_first_served(
    specs: list[DeviceSpec], make_pool: MakePool, eventually: Eventually
) -> None:
    pool = make_pool()
    spec = dataclasses.replace(specs[0], max_sessions=1)
    order: list[int] = []
    held = await pool.checkout(spec)

    async def waiter(i: int) -> None:
        async with pool.lease(spec) as lease:
            order.append(i)
            assert lease.reused
            await asyncio.sleep(0)

    tasks = []
    for i in range(5):
        tasks.append(asyncio.create_task(waiter(i)))
        await eventually(lambda i=i: pool.stats().total.waiting == i + 1)  # type: ignore[misc]
    await pool.release(held)
    await asyncio.gather(*tasks)
    assert order == [0, 1, 2, 3, 4]
    assert pool.stats().total.logins == 1


async def test_waiter_timeout_leaves_no_leak(
    sim: Simulator, specs: list[DeviceSpec], make_pool: MakePool, eventually: Eventually
) -> None:
    pool = make_pool()
    spec = dataclasses.replace(specs[0], max_sessions=1)
    held = await pool.checkout(spec)
    with pytest.raises(PoolTimeout, match=r"sim-ios-0001: no session available within 0\.1"):
        await pool.checkout(spec, timeout=0.1)
    assert pool.stats().total.waiting == 0
    await pool.release(held)
    again = await pool.checkout(spec, timeout=1)
    assert again.reused
    await pool.release(again)
    assert sim.device(spec.name).stats.logins == 1
    assert pool.stats().total.idle == 1


async def test_handoff_to_a_cancelled_waiter_goes_to_the_next(
    sim: Simulator, specs: list[DeviceSpec], make_pool: MakePool, eventually: Eventually
) -> None:
    pool = make_pool()
    spec = dataclasses.replace(specs[0], max_sessions=1)
    held = await pool.checkout(spec)
    first = asyncio.create_task(pool.checkout(spec))
    await eventually(lambda: pool.stats().total.waiting == 1)
    second = asyncio.create_task(pool.checkout(spec))
    await eventually(lambda: pool.stats().total.waiting == 2)
    await pool.release(held)  # hands the session to ``first`` ...
    first.cancel()  # ... which is cancelled before it runs
    with pytest.raises(asyncio.CancelledError):
        await first
    lease = await asyncio.wait_for(second, 5)
    assert lease.reused
    assert (await lease.session.send_command("show clock")).ok
    await pool.release(lease)
    assert sim.device(spec.name).stats.logins == 1
    stats = pool.stats().total
    assert (stats.waiting, stats.in_use, stats.idle) == (0, 0, 1)


async def test_cancelled_waiters_and_jobs_leak_nothing(
    sim: Simulator, specs: list[DeviceSpec], make_pool: MakePool, eventually: Eventually
) -> None:
    pool = make_pool()
    spec = dataclasses.replace(specs[1], max_sessions=2)
    tasks = [asyncio.create_task(_job(pool, spec, hold=0.02)) for _ in range(20)]
    await asyncio.sleep(0.03)
    for task in tasks[::2]:
        task.cancel()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert any(isinstance(r, asyncio.CancelledError) for r in results)
    assert all(isinstance(r, bool | asyncio.CancelledError) for r in results)
    await eventually(lambda: sim.device(spec.name).stats.sessions_open <= 2)
    stats = pool.stats().total
    assert (stats.waiting, stats.in_use, stats.opening) == (0, 0, 0)
    # The pool still serves the full per-device limit afterwards.
    await asyncio.gather(*(_job(pool, spec, hold=0.01) for _ in range(4)))
    assert sim.device(spec.name).stats.peak_sessions <= 2


async def test_too_many_waiters(
    specs: list[DeviceSpec], make_pool: MakePool, eventually: Eventually
) -> None:
    pool = make_pool(max_waiters=1)
    spec = dataclasses.replace(specs[0], max_sessions=1)
    held = await pool.checkout(spec)
    queued = asyncio.create_task(pool.checkout(spec))
    await eventually(lambda: pool.stats().total.waiting == 1)
    with pytest.raises(PoolFull, match="max_waiters=1"):
        await pool.checkout(spec)
    await pool.release(held)
    await pool.release(await queued)
    assert pool.stats().total.waiting == 0


async def test_waiting_for_an_in_use_session_beats_a_new_login(
    sim: Simulator, specs: list[DeviceSpec], make_pool: MakePool
) -> None:
    spec = dataclasses.replace(specs[0], max_sessions=2)
    # Patience of 1000 mean login times: a second login is never worth it here.
    pool = make_pool(reuse_wait_factor=1000)
    await _job(pool, spec)  # one login to learn the login time
    await asyncio.gather(*(_job(pool, spec, hold=0.002) for _ in range(20)))
    stats = pool.stats().devices[spec.name]
    assert stats.logins == 1
    assert stats.reuses == 20
    assert sim.device(spec.name).stats.peak_sessions == 1

"""Pool behaviours not covered elsewhere: lifetime jitter, the login time histogram, and the
heartbeat totals."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from netfleet.core.inventory import load_inventory
from netfleet.core.models import DeviceSpec
from netfleet.device import Device
from netfleet.pool import SessionPool
from netfleet.pool.stats import LOGIN_BUCKETS
from netfleet_sim import Simulator

MakePool = Callable[..., SessionPool[Device]]

LOGIN_DELAY_S = 0.06


async def _show(pool: SessionPool[Device], spec: DeviceSpec) -> bool:
    """Run one command on a pooled session; return whether the session was reused."""
    async with pool.lease(spec) as lease:
        assert (await lease.session.send_command("show clock")).ok
        return lease.reused


async def test_lifetime_jitter_shortens_lifetimes(
    sim: Simulator, specs: list[DeviceSpec], make_pool: MakePool
) -> None:
    # Without jitter a 60 s lifetime lets the session be reused at once.
    steady = make_pool(max_lifetime_seconds=60.0, lifetime_jitter_seconds=0.0)
    assert [await _show(steady, specs[0]) for _ in range(2)] == [False, True]
    # A jitter far above the lifetime ends nearly every session at once (p(reuse) ~ 6e-8):
    # fails if the jitter were ignored or added instead of subtracted.
    spread = make_pool(max_lifetime_seconds=60.0, lifetime_jitter_seconds=1e9)
    assert [await _show(spread, specs[1]) for _ in range(3)] == [False, False, False]
    assert spread.stats().total.evictions == {"lifetime": 3}  # retired on release


@pytest.fixture
async def slow_login_specs(tmp_path: Path) -> AsyncIterator[list[DeviceSpec]]:
    async with Simulator(
        devices=2, platforms=["cisco_ios"], base_port=0, login_delay_ms=LOGIN_DELAY_S * 1000
    ) as s:
        path = tmp_path / "slow.yaml"
        s.write_inventory(path)
        yield load_inventory(path).devices


async def test_login_time_histogram_counts_every_login(
    slow_login_specs: list[DeviceSpec], make_pool: MakePool
) -> None:
    pool = make_pool(max_uses=1)
    for spec in slow_login_specs:
        for _ in range(2):
            assert not await _show(pool, spec)
    stats = pool.stats()
    hist = stats.total.login_seconds
    assert hist.buckets == LOGIN_BUCKETS
    assert len(hist.counts) == len(LOGIN_BUCKETS) + 1
    assert hist.count == stats.total.logins == 4
    assert sum(hist.counts) == 4
    # Each login waits for the simulator's delay, so none lands at or below that bucket bound.
    floor = next(i for i, b in enumerate(LOGIN_BUCKETS) if b >= LOGIN_DELAY_S)
    assert sum(hist.counts[:floor]) == 0
    assert hist.total >= 4 * LOGIN_DELAY_S
    assert hist.mean == pytest.approx(hist.total / 4)
    per_device = [stats.devices[s.name].login_seconds.count for s in slow_login_specs]
    assert per_device == [2, 2]
    assert stats.total.reuse_rate == 0.0
    assert stats.total.evictions == {"max_uses": 4}


async def test_per_device_login_rate_delays_the_second_login(
    sim: Simulator, specs: list[DeviceSpec], make_pool: MakePool
) -> None:
    """Rate 1/s (a burst of 1): a second session to the same device waits for its token,
    as seen from the device; another device is not held up."""
    pool = make_pool(logins_per_second_per_device=1.0, reuse_wait_factor=0)
    spec = specs[0]
    sim.reset_stats()
    async with pool.lease(spec):
        second = asyncio.create_task(_show(pool, spec))  # the first session is in use
        await asyncio.sleep(0.3)  # well under the 1 s a token takes
        assert not second.done()
        assert sim.device(spec.name).stats.logins == 1
        assert not await _show(pool, specs[1])  # other devices have their own rate
        assert sim.device(specs[1].name).stats.logins == 1
    assert not await second
    assert sim.device(spec.name).stats.logins == 2
    assert sim.device(spec.name).stats.peak_sessions == 2


async def test_totals_match_the_per_device_stats(
    sim: Simulator, specs: list[DeviceSpec], make_pool: MakePool
) -> None:
    pool = make_pool(max_uses=2)
    for spec in specs[:2]:
        for _ in range(3):  # login, reuse, then a new login (max_uses 2)
            await _show(pool, spec)
    async with pool.lease(specs[2]):  # one session in use while totals are taken
        totals = pool.totals()
        total = pool.stats().total
    assert totals == {
        "sessions_open": total.sessions_open,
        "idle": total.idle,
        "in_use": total.in_use,
        "checkouts": total.checkouts,
        "logins": total.logins,
        "login_failures": total.login_failures,
        "reuses": total.reuses,
        "evictions": total.evictions,
    }
    assert (totals["checkouts"], totals["logins"], totals["reuses"]) == (7, 5, 2)
    assert (totals["in_use"], totals["idle"]) == (1, 2)
    assert totals["evictions"] == {"max_uses": 2}

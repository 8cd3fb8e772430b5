"""Login admission: auth-failure backoff, concurrent-login cap, per-device login rate."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from netfleet.core.errors import AuthenticationFailed, LoginBackoff
from netfleet.core.models import DeviceSpec
from netfleet.device import Device
from netfleet.pool import SessionPool
from netfleet.pool.admission import LoginAdmission
from netfleet_sim import Simulator

MakePool = Callable[..., SessionPool[Device]]


async def _show(pool: SessionPool[Device], spec: DeviceSpec) -> None:
    async with pool.session(spec) as dev:
        assert (await dev.send_command("show clock")).ok


async def test_bad_password_is_tried_once_then_backs_off(
    sim: Simulator,
    specs: list[DeviceSpec],
    make_pool: MakePool,
    with_password: Callable[[DeviceSpec, str], DeviceSpec],
) -> None:
    pool = make_pool(auth_failure_backoff_seconds=600)
    spec = specs[0]
    simdev = sim.device(spec.name)
    wrong = with_password(spec, "wrong")

    with pytest.raises(AuthenticationFailed):
        await _show(pool, wrong)
    one_attempt = simdev.stats.login_failures
    assert one_attempt >= 1

    # During the backoff nothing reaches the device, however many jobs try.
    results = await asyncio.gather(*(_show(pool, wrong) for _ in range(5)), return_exceptions=True)
    assert all(isinstance(r, LoginBackoff) for r in results)
    assert "paused" in str(results[0])
    assert "wrong" not in str(results[0])
    assert simdev.stats.login_failures == one_attempt
    assert pool.stats().devices_in_backoff == 1

    # The right password is not affected by the other credential's backoff.
    await _show(pool, spec)

    # Concurrent first logins with an unproven bad credential: only one reaches the device.
    pool.retire(spec.name)  # also clears the backoff
    results = await asyncio.gather(*(_show(pool, wrong) for _ in range(5)), return_exceptions=True)
    kinds = sorted(type(r).__name__ for r in results)
    assert kinds == ["AuthenticationFailed"] + ["LoginBackoff"] * 4
    assert simdev.stats.login_failures == 2 * one_attempt


async def test_refused_auth_fault_counts_as_login_failure(
    sim: Simulator, specs: list[DeviceSpec], make_pool: MakePool
) -> None:
    pool = make_pool(auth_failure_backoff_seconds=600)
    sim.device(specs[1].name).set_faults(refuse_auth=True)
    with pytest.raises(AuthenticationFailed):
        await _show(pool, specs[1])
    stats = pool.stats()
    assert stats.devices[specs[1].name].login_failures == 1
    assert stats.total.sessions_open == 0
    with pytest.raises(LoginBackoff):
        await _show(pool, specs[1])


async def test_concurrent_logins_are_capped(specs: list[DeviceSpec], make_pool: MakePool) -> None:
    pool = make_pool(max_concurrent_logins=1)
    peak = 0
    stop = asyncio.Event()

    async def sample() -> None:
        nonlocal peak
        while not stop.is_set():
            peak = max(peak, pool.stats().logins_in_progress)
            await asyncio.sleep(0)

    sampler = asyncio.create_task(sample())
    await asyncio.gather(*(_show(pool, s) for s in specs))
    stop.set()
    await sampler
    assert peak == 1
    assert pool.stats().total.logins == 3


def test_login_rate_token_bucket() -> None:
    now = [100.0]
    admission = LoginAdmission(max_concurrent=10, rate=2.0, clock=lambda: now[0])
    # A burst of max(1, rate) = 2 logins, then one every 1/rate seconds.
    assert [admission.reserve("r1") for _ in range(4)] == [0.0, 0.0, 0.5, 1.0]
    assert admission.reserve("r2") == 0.0  # per device
    now[0] += 10.0
    assert admission.reserve("r1") == 0.0

    slow = LoginAdmission(max_concurrent=1, rate=0.5, clock=lambda: now[0])
    assert [slow.reserve("r1") for _ in range(3)] == [0.0, 2.0, 4.0]


def test_backoff_expires() -> None:
    now = [0.0]
    admission = LoginAdmission(max_concurrent=1, rate=1.0, backoff_s=30, clock=lambda: now[0])
    admission._backoff[("r1", "fp")] = 30.0
    with pytest.raises(LoginBackoff, match=r"r1: logins with credential 'ops' are paused for 30"):
        admission.check("r1", "fp", "ops")
    now[0] = 31.0
    admission.check("r1", "fp", "ops")
    assert admission.devices_in_backoff() == 0

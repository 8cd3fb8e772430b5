"""Lifecycle and health: idle timeout, lifetime, uses, dead/hung/closed sessions, reset,
dirty sessions, retirement on device or credential change, closing the pool."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable

import pytest

from netfleet.core.errors import PoolClosed
from netfleet.core.models import DeviceSpec
from netfleet.device import Device
from netfleet.pool import SessionPool
from netfleet_sim import Simulator

MakePool = Callable[..., SessionPool[Device]]
Eventually = Callable[..., Awaitable[None]]


async def _show(pool: SessionPool[Device], spec: DeviceSpec) -> bool:
    """Run one command on a pooled session; return whether the session was reused."""
    async with pool.lease(spec) as lease:
        assert (await lease.session.send_command("show clock")).ok
        return lease.reused


async def test_idle_timeout_reaper_closes_sessions(
    sim: Simulator, specs: list[DeviceSpec], make_pool: MakePool, eventually: Eventually
) -> None:
    pool = make_pool(idle_timeout_s=0.2, reaper_interval_s=0.05)
    await _show(pool, specs[0])
    assert pool.warm_devices() == [specs[0].name]
    await eventually(lambda: pool.stats().total.evictions.get("idle_timeout") == 1)
    await eventually(lambda: sim.device(specs[0].name).stats.sessions_open == 0)
    assert pool.warm_devices() == []
    assert not await _show(pool, specs[0])


async def test_max_lifetime_and_max_uses(
    sim: Simulator, specs: list[DeviceSpec], make_pool: MakePool
) -> None:
    pool = make_pool(max_uses=2)
    assert [await _show(pool, specs[0]) for _ in range(5)] == [False, True, False, True, False]
    assert pool.stats().devices[specs[0].name].evictions == {"max_uses": 2}

    pool = make_pool(max_lifetime_seconds=0.05, reaper_interval_s=60)
    assert not await _show(pool, specs[1])
    await asyncio.sleep(0.1)
    assert not await _show(pool, specs[1])
    assert pool.stats().total.evictions == {"lifetime": 1}


async def test_session_dropped_while_idle_is_replaced_without_failing_the_job(
    sim: Simulator, specs: list[DeviceSpec], make_pool: MakePool, eventually: Eventually
) -> None:
    pool = make_pool(probe_after_idle_seconds=0)
    spec = specs[0]
    await _show(pool, spec)
    for conn in list(sim.device(spec.name).connections()):
        conn.close()  # the device rebooted / dropped the session
    await eventually(lambda: sim.device(spec.name).stats.sessions_open == 0)
    assert not await _show(pool, spec)  # a new session, and the job succeeded
    stats = pool.stats().devices[spec.name]
    assert stats.logins == 2
    assert sum(stats.evictions.values()) == 1
    assert set(stats.evictions) <= {"closed", "dead"}


async def test_session_closed_by_device_exec_timeout_is_replaced(
    tmp_path: object, make_pool: MakePool, eventually: Eventually
) -> None:
    async with Simulator(devices=1, platforms=["cisco_ios"], exec_timeout_s=0.2) as sim:
        d = sim.devices[0]
        from netfleet.core.models import Credential

        spec = DeviceSpec(
            d.name,
            d.host,
            d.platform,
            port=d.port,
            credentials=(Credential(d.username, d.password, enable_secret=d.enable_secret),),
        )
        pool = make_pool(reaper_interval_s=60)
        await _show(pool, spec)
        await eventually(lambda: d.stats.sessions_open == 0)
        assert not await _show(pool, spec)
        assert pool.stats().total.login_failures == 0


async def test_hung_idle_session_fails_its_probe_and_is_replaced(
    sim: Simulator, specs: list[DeviceSpec], make_pool: MakePool, eventually: Eventually
) -> None:
    pool = make_pool(probe_after_idle_seconds=0, probe_timeout_seconds=0.2)
    spec = specs[0]
    await _show(pool, spec)
    simdev = sim.device(spec.name)
    # The device stops answering in time; its slow login keeps the replacement session
    # from meeting the latency, which is cleared as soon as the probe has failed.
    simdev.set_faults(latency_ms=5000, login_delay_ms=1000)
    job = asyncio.create_task(_show(pool, spec))
    await eventually(lambda: pool.stats().total.probe_failures == 1)
    simdev.clear_faults()
    assert not await asyncio.wait_for(job, 10)
    stats = pool.stats().total
    assert stats.evictions == {"dead": 1}
    assert stats.logins == 2


async def test_release_resets_privilege_level(
    sim: Simulator, specs: list[DeviceSpec], make_pool: MakePool
) -> None:
    pool = make_pool()
    spec = specs[0]
    async with pool.session(spec) as dev:
        await dev.enable()
        await dev.send_command("configure terminal")
        assert dev.level == "config"
    async with pool.lease(spec) as lease:
        assert lease.reused
        assert lease.session.level == lease.session.platform.default_level
        assert (await lease.session.send_command("show clock")).ok


async def test_session_failed_mid_command_is_discarded(
    sim: Simulator, specs: list[DeviceSpec], make_pool: MakePool
) -> None:
    pool = make_pool(command_timeout=0.3)
    spec = specs[0]
    sim.device(spec.name).set_faults(hang_on="show clock")
    with pytest.raises(Exception, match="no prompt"):
        async with pool.session(spec) as dev:
            await dev.send_command("show clock")
    sim.device(spec.name).clear_faults()
    assert pool.stats().total.evictions == {"dirty": 1}
    assert not await _show(pool, spec)

    # A session with a device-rejected command stays clean and is kept.
    async with pool.session(spec) as dev:
        assert not (await dev.send_command("show bogus")).ok
    assert await _show(pool, spec)


async def test_cancelled_job_discards_its_session(
    sim: Simulator, specs: list[DeviceSpec], make_pool: MakePool
) -> None:
    pool = make_pool()
    spec = specs[0]
    await _show(pool, spec)
    sim.device(spec.name).set_faults(latency_ms=2000)

    async def job() -> None:
        async with pool.session(spec) as dev:
            await dev.send_command("show clock")

    task = asyncio.create_task(job())
    await asyncio.sleep(0.3)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    sim.device(spec.name).clear_faults()
    assert pool.stats().total.evictions == {"dirty": 1}
    assert not await _show(pool, spec)


async def test_retire_and_device_change_retire_old_sessions(
    sim: Simulator, specs: list[DeviceSpec], make_pool: MakePool
) -> None:
    pool = make_pool()
    spec = specs[0]
    await _show(pool, spec)
    assert pool.retire(spec.name) == 1
    assert not await _show(pool, spec)
    assert pool.stats().total.evictions == {"retired": 1}

    # A spec change (here: legacy algorithms, part of the connection options) retires too;
    # a session in use at that moment is closed when it is released.
    async with pool.lease(spec) as old:
        changed = dataclasses.replace(spec, legacy_algorithms=True)
        assert changed != spec
        lease = await pool.checkout(changed)
        assert not lease.reused
        await pool.release(lease)
        assert old.reused
    stats = pool.stats().devices[spec.name]
    assert stats.evictions["retired"] == 2
    assert stats.idle == 1


async def test_changed_credentials_never_borrow_and_retire_old_sessions(
    sim: Simulator,
    specs: list[DeviceSpec],
    make_pool: MakePool,
    with_password: Callable[[DeviceSpec, str], DeviceSpec],
) -> None:
    pool = make_pool(auth_failure_backoff_seconds=60)
    spec = specs[0]
    await _show(pool, spec)
    wrong = with_password(spec, "wrong")
    with pytest.raises(Exception, match=r"(?i)auth"):
        await _show(pool, wrong)  # never served by the authenticated idle session
    assert pool.stats().devices[spec.name].idle == 1
    assert await _show(pool, spec)  # the good session is still there
    # Credentials rotated: the device now accepts a new password (the simulator accepts
    # its configured one, so "rotate" to an equal credential with another name).
    from netfleet.core.models import Credential

    cred = spec.credentials[0]
    rotated = dataclasses.replace(
        spec,
        credentials=(
            Credential(cred.username, cred.password, enable_secret=cred.enable_secret, name="v2"),
            Credential("fallback", "x"),
        ),
    )
    assert not await _show(pool, rotated)
    stats = pool.stats().devices[spec.name]
    assert stats.evictions.get("credentials_changed") == 1
    assert stats.idle == 1


async def test_close_is_graceful_then_forced(
    sim: Simulator, specs: list[DeviceSpec], make_pool: MakePool, eventually: Eventually
) -> None:
    pool = make_pool()
    await _show(pool, specs[0])
    returned = await pool.checkout(specs[1])
    stuck = await pool.checkout(specs[2])
    waiter_spec = dataclasses.replace(specs[2], max_sessions=1)
    waiter = asyncio.create_task(pool.checkout(waiter_spec))
    await eventually(lambda: pool.stats().total.waiting == 1)

    async def give_back() -> None:
        await asyncio.sleep(0.05)
        await pool.release(returned)

    giver = asyncio.create_task(give_back())
    await pool.close(timeout=0.3)
    await giver
    with pytest.raises(PoolClosed):
        await waiter
    assert stuck.session.closed  # forced
    stats = pool.stats().total
    assert stats.sessions_open == 0
    assert stats.evictions.get("pool_closed") == 3
    await eventually(lambda: all(d.stats.sessions_open == 0 for d in sim.devices))
    with pytest.raises(PoolClosed):
        await pool.checkout(specs[0])


async def test_session_whose_reset_fails_is_discarded(
    sim: Simulator, specs: list[DeviceSpec], make_pool: MakePool
) -> None:
    pool = make_pool(reset_timeout_seconds=0.3)
    spec = specs[0]
    async with pool.session(spec) as dev:
        await dev.enable()
        await dev.send_command("configure terminal")
        sim.device(spec.name).set_faults(hang_on="^end$")  # leaving config mode hangs
    sim.device(spec.name).clear_faults()
    assert pool.stats().total.evictions == {"reset_failed": 1}
    assert not await _show(pool, spec)


async def test_discard_closed_lets_go_of_idle_sessions_the_device_closed(
    sim: Simulator, specs: list[DeviceSpec], make_pool: MakePool, eventually: Eventually
) -> None:
    """A session the device dropped while idle leaves the pool at the next sweep (the
    worker sweeps every heartbeat), not at the reaper's next run, minutes later."""
    pool = make_pool(reaper_interval_s=3600)
    dropped, kept = specs[0], specs[1]
    await _show(pool, dropped)
    await _show(pool, kept)
    assert pool.discard_closed() == 0  # nothing closed yet: nothing let go
    for conn in list(sim.device(dropped.name).connections()):
        conn.close()  # the device rebooted
    await eventually(lambda: sim.device(dropped.name).stats.sessions_open == 0)
    await eventually(lambda: pool.discard_closed() == 1)
    assert pool.warm_devices() == [kept.name]
    assert pool.stats().devices[dropped.name].evictions == {"closed": 1}
    assert pool.discard_closed() == 0

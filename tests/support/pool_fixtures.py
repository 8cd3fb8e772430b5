"""Fixtures: a small simulated fleet and pools of real ``Device`` sessions into it."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from netfleet.core.inventory import load_inventory
from netfleet.core.models import Credential, DeviceSpec
from netfleet.core.settings import ConnectSettings, PoolSettings
from netfleet.device import Device
from netfleet.pool import SessionPool
from netfleet_sim import Simulator

MakePool = Callable[..., SessionPool[Device]]

FAST_POOL = {
    "logins_per_second_per_device": 1000.0,
    "probe_after_idle_seconds": 10.0,
    "lifetime_jitter_seconds": 0.0,
    "checkout_timeout_seconds": 10.0,
    "probe_timeout_seconds": 1.0,
}


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    """Three IOS/IOS-XE devices; each allows up to 5 sessions on the device side."""
    async with Simulator(devices=3, platforms=["cisco_ios", "cisco_xe"], base_port=0) as s:
        yield s


@pytest.fixture
def specs(sim: Simulator, tmp_path: Path) -> list[DeviceSpec]:
    """The simulator's devices as inventory entries (read through ``load_inventory``)."""
    path = tmp_path / "fleet.yaml"
    sim.write_inventory(path)
    return load_inventory(path).devices


@pytest.fixture
async def make_pool(tmp_path: Path) -> AsyncIterator[MakePool]:
    """``make_pool(max_total=, idle_timeout_s=, reuse=, **PoolSettings fields)``; closed after."""
    pools: list[SessionPool[Device]] = []
    connect = ConnectSettings(
        known_hosts=tmp_path / "known_hosts",
        tcp_timeout_seconds=5,
        handshake_timeout_seconds=5,
        auth_timeout_seconds=5,
        prompt_timeout_seconds=5,
    )

    def make(
        *,
        max_total: int = 100,
        idle_timeout_s: float = 60.0,
        reuse: bool = True,
        reaper_interval_s: float | None = None,
        command_timeout: float = 5.0,
        **settings: Any,
    ) -> SessionPool[Device]:
        def factory(spec: DeviceSpec) -> Device:
            return Device.from_spec(
                spec, connect, auto_reconnect=False, command_timeout=command_timeout
            )

        pool = SessionPool(
            factory,
            PoolSettings(**{**FAST_POOL, **settings}),
            max_total=max_total,
            idle_timeout_s=idle_timeout_s,
            reuse=reuse,
            reaper_interval_s=reaper_interval_s,
        )
        pools.append(pool)
        return pool

    yield make
    for pool in pools:
        await pool.close(timeout=1.0)


def _with_password(spec: DeviceSpec, password: str) -> DeviceSpec:
    cred = spec.credentials[0]
    return dataclasses.replace(
        spec, credentials=(Credential(cred.username, password, enable_secret=cred.enable_secret),)
    )


async def _eventually(check: Callable[[], bool], timeout: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not check():
        if loop.time() > end:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.01)


@pytest.fixture
def with_password() -> Callable[[DeviceSpec, str], DeviceSpec]:
    """``with_password(spec, pw)``: ``spec`` with its credential's password replaced."""
    return _with_password


@pytest.fixture
def eventually() -> Callable[..., Awaitable[None]]:
    """``await eventually(check, timeout=5)``: poll until true; fail the test after timeout."""
    return _eventually

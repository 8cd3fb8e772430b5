"""Fixtures: simulated devices over real SSH on loopback, and Devices that log into them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from netfleet.device import Device
from netfleet.transport import Timeouts
from netfleet_sim import SimDevice, Simulator

FAST = Timeouts(tcp=5.0, handshake=5.0, auth=5.0, prompt=5.0)

MakeDevice = Callable[..., Device]


@pytest.fixture
def known_hosts(tmp_path: Path) -> Path:
    return tmp_path / "known_hosts"


@pytest.fixture
def make_device(known_hosts: Path) -> MakeDevice:
    """``make_device(sim_device, **overrides)`` -> an unopened Device for that sim device."""

    def make(d: SimDevice, **kwargs: Any) -> Device:
        params: dict[str, Any] = {
            "port": d.port,
            "platform": d.platform,
            "username": d.username,
            "password": d.password,
            "enable_secret": d.enable_secret,
            "host_key_policy": "accept-new",
            "known_hosts": known_hosts,
            "name": d.name,
            "timeouts": FAST,
            "command_timeout": 5.0,
        }
        params.update(kwargs)
        return Device(d.host, **params)

    return make


@pytest.fixture
async def ios_sim() -> AsyncIterator[Simulator]:
    async with Simulator(devices=1, platforms=["cisco_ios"], base_port=0) as sim:
        yield sim


@pytest.fixture
async def ios(ios_sim: Simulator, make_device: MakeDevice) -> AsyncIterator[Device]:
    async with make_device(ios_sim.devices[0]) as dev:
        yield dev

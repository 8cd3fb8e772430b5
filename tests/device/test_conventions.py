"""Conventions users bring from other tools: Ansible platform names, the lazy top-level API."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest

from netfleet_sim import Simulator


def test_import_netfleet_stays_cheap_and_exposes_device_lazily() -> None:
    code = (
        "import sys, netfleet; assert 'netfleet.device' not in sys.modules; "
        "from netfleet import Device, SyncDevice; "
        "import netfleet.device as d; assert Device is d.Device and SyncDevice is d.SyncDevice"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_sync_device_names_a_wrong_argument_before_connecting() -> None:
    from netfleet import SyncDevice

    with pytest.raises(TypeError, match="secret"):
        SyncDevice("192.0.2.1", platform="cisco_ios", secret="x")  # netmiko's name


async def test_sync_device_that_fails_to_open_closes_its_loop(known_hosts: Path) -> None:
    from netfleet import SyncDevice
    from netfleet.core.errors import AuthenticationFailed

    async with Simulator(devices=1, platforms=["cisco_ios"]) as sim:
        d = sim.devices[0]
        dev = SyncDevice(
            d.host,
            port=d.port,
            platform="cisco_ios",
            username=d.username,
            password="wrong",
            host_key_policy="accept-new",
            known_hosts=known_hosts,
        )

        def script() -> None:
            with dev:
                pass

        with pytest.raises(AuthenticationFailed):
            await asyncio.to_thread(script)
        assert dev._runner._loop is None or dev._runner._loop.is_closed()


@pytest.mark.parametrize(
    ("platform", "sim_platform", "banner"),
    [
        ("cisco_ios", "cisco_ios", "Cisco IOS Software"),
        ("arista.eos.eos", "arista_eos", "Arista"),  # an Ansible network_os name
    ],
)
async def test_sync_device(
    known_hosts: Path, platform: str, sim_platform: str, banner: str
) -> None:
    from netfleet import SyncDevice

    async with Simulator(devices=1, platforms=[sim_platform]) as sim:
        d = sim.devices[0]

        def script() -> tuple[str, str, bool]:
            with SyncDevice(
                d.host,
                port=d.port,
                platform=platform,
                username=d.username,
                password=d.password,
                enable_secret=d.enable_secret,
                host_key_policy="accept-new",
                known_hosts=known_hosts,
            ) as dev:
                dev.enable()
                shown = dev.send_command("show version").output
                return dev.device.platform.name, shown, dev.is_alive()

        name, version, alive = await asyncio.to_thread(script)
        assert name == sim_platform
        assert version.startswith(banner) if sim_platform == "cisco_ios" else banner in version
        assert alive

"""Conventions users bring from other tools: Ansible platform names, the lazy top-level API."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

from netfleet_sim import Simulator


def test_import_netfleet_stays_cheap_and_exposes_device_lazily() -> None:
    code = (
        "import sys, netfleet; assert 'netfleet.device' not in sys.modules; "
        "from netfleet import Device, SyncDevice; "
        "import netfleet.device as d; assert Device is d.Device and SyncDevice is d.SyncDevice"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


async def test_sync_device_with_an_ansible_platform_name(known_hosts: Path) -> None:
    from netfleet import SyncDevice

    async with Simulator(devices=1, platforms=["arista_eos"]) as sim:
        d = sim.devices[0]

        def script() -> tuple[str, str]:
            with SyncDevice(
                d.host,
                port=d.port,
                platform="arista.eos.eos",
                username=d.username,
                password=d.password,
                enable_secret=d.enable_secret,
                host_key_policy="accept-new",
                known_hosts=known_hosts,
            ) as dev:
                dev.enable()
                return dev.device.platform.name, dev.send_command("show version").output

        platform, version = await asyncio.to_thread(script)
        assert platform == "arista_eos"
        assert "Arista" in version

"""netmiko (a real-world client) logs in, runs show commands, pushes config and reads it back."""

from __future__ import annotations

import asyncio

import pytest
from netmiko import ConnectHandler

from netfleet_sim import SimDevice, Simulator
from tests.support.client_cases import ClientCase, case_params


def netmiko_session(device: SimDevice, case: ClientCase) -> tuple[str, str]:
    conn = ConnectHandler(
        device_type=case.platform,
        host=device.host,
        port=device.port,
        username=device.username,
        password=device.password,
        secret=device.enable_secret,
        conn_timeout=10,
        allow_agent=False,
        ssh_config_file=None,
    )
    try:
        if case.platform not in ("linux", "juniper_junos"):
            conn.enable()
        shown = conn.send_command(case.show)
        readback = ""
        if case.config:
            conn.send_config_set(list(case.config), exit_config_mode=not case.commit)
            if case.commit:
                conn.commit()
                conn.exit_config_mode()
            readback = conn.send_command(case.readback)
        return shown, readback
    finally:
        conn.disconnect()


@pytest.mark.parametrize("case", case_params())
async def test_netmiko_show_and_config(case: ClientCase) -> None:
    async with Simulator(devices=1, platforms=[case.platform]) as sim:
        device = sim.devices[0]
        shown, readback = await asyncio.to_thread(netmiko_session, device, case)
        assert case.show_expect in shown
        if case.config:
            assert case.readback_expect in readback
        assert device.stats.logins == 1
        assert case.show in device.stats.commands


def _netmiko_junos_push(device: SimDevice) -> str:
    conn = ConnectHandler(
        device_type="juniper_junos",
        host=device.host,
        port=device.port,
        username=device.username,
        password=device.password,
        conn_timeout=10,
        allow_agent=False,
        ssh_config_file=None,
    )
    try:
        # netmiko's usual pattern: send_config_set leaves configuration mode (answering
        # "Exit with uncommitted changes?"), then commit() enters it again and commits.
        conn.send_config_set(["set snmp contact netmiko-shared"])
        conn.commit()
        conn.exit_config_mode()
        return conn.send_command("show configuration snmp")
    finally:
        conn.disconnect()


async def test_netmiko_junos_config_set_then_commit_uses_the_shared_candidate() -> None:
    async with Simulator(devices=1, platforms=["juniper_junos"]) as sim:
        shown = await asyncio.to_thread(_netmiko_junos_push, sim.devices[0])
        assert "contact netmiko-shared;" in shown

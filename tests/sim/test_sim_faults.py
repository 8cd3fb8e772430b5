"""Fault injection: drop mid-output, hang, refuse auth, refuse sessions, reboot."""

from __future__ import annotations

import asyncio

import asyncssh
import pytest

from netfleet_sim import SimDevice, Simulator
from tests.support.simclient import connect, open_shell


async def test_drop_mid_output_cuts_the_connection(device: SimDevice) -> None:
    shell = await open_shell(device)
    await shell.command("terminal length 0")
    device.set_faults(drop_mid_output=True)
    shell.send("show lines 100\r")
    text = await shell.read_to_eof()
    assert text.startswith("show lines 100\r\nline 1\r\n")
    assert "line 100" not in text
    assert not text.endswith(">")
    await asyncio.wait_for(shell.conn.wait_closed(), 5)


async def test_drop_after_n_characters(device: SimDevice) -> None:
    device.set_faults(drop_mid_output=16)
    shell = await open_shell(device)
    shell.send("show lines 5\r")
    assert await shell.read_to_eof() == "show lines 5\r\nline 1\r\nline 2\r\n"


async def test_drop_spares_short_output(device: SimDevice) -> None:
    device.set_faults(drop_mid_output=1000)
    shell = await open_shell(device)
    assert "line 3" in await shell.command("show lines 3")
    shell.close()


async def test_hang_on_matching_command(device: SimDevice) -> None:
    device.set_faults(hang_on=r"^show clo")
    shell = await open_shell(device)
    assert "echo: ok" in await shell.command("ok")
    shell.send("show clock\r")
    await shell.read_until("show clock\r\n")
    with pytest.raises(TimeoutError):
        await shell.read_until(">", timeout=0.3)
    shell.send("more\r")
    with pytest.raises(TimeoutError):
        await shell.read_until("echo: more", timeout=0.3)
    assert device.stats.commands == ["ok", "show clock"]
    other = await open_shell(device)
    assert "echo: fine" in await other.command("fine")
    other.close()
    shell.close()


async def test_hang_applies_to_exec_requests(device: SimDevice) -> None:
    device.set_faults(hang_on="clock")
    async with await connect(device) as conn:
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(conn.run("show clock"), 0.3)


async def test_refuse_auth(device: SimDevice) -> None:
    device.set_faults(refuse_auth=True)
    with pytest.raises(asyncssh.PermissionDenied):
        await connect(device)
    assert device.stats.login_failures >= 1
    assert device.stats.logins == 0
    device.clear_faults()
    (await open_shell(device)).close()


async def test_refuse_sessions_closes_tcp_at_once(device: SimDevice) -> None:
    device.set_faults(refuse_sessions=True)
    with pytest.raises((asyncssh.Error, OSError)):
        await connect(device)
    assert device.stats.sessions_refused == 1
    assert device.stats.logins == 0
    device.set_faults(refuse_sessions=False)
    (await open_shell(device)).close()


async def test_reboot_drops_sessions_and_resets_unsaved_state(device: SimDevice) -> None:
    shell = await open_shell(device)
    await shell.command("set saved 1")
    await shell.command("write memory")
    await shell.command("set unsaved 2")
    other = await open_shell(device)
    await device.reboot()
    for s in (shell, other):
        await s.read_to_eof()
        await asyncio.wait_for(s.conn.wait_closed(), 5)
    fresh = await open_shell(device)
    text = await fresh.command("show config")
    assert "saved 1" in text
    assert "unsaved" not in text
    fresh.close()


async def test_reboot_downtime_refuses_connections(device: SimDevice) -> None:
    await device.reboot(downtime_s=30)
    with pytest.raises((asyncssh.Error, OSError)):
        await connect(device)
    await device.reboot()
    (await open_shell(device)).close()


async def test_initial_faults_by_pattern() -> None:
    from tests.support.echo_platform import REGISTRY

    async with Simulator(
        devices=3,
        platforms=["echo", "echo2"],
        registry=REGISTRY,
        faults={"sim-echo2-*": {"refuse_auth": True}},
    ) as sim:
        assert [d.faults.refuse_auth for d in sim.devices] == [False, True, False]

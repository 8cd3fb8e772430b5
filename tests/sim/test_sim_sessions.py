"""Paging interaction, vty limits and the idle (exec) timeout."""

from __future__ import annotations

import asyncio

import asyncssh
import pytest

from netfleet_sim import SimDevice, Simulator
from tests.support.echo_platform import REGISTRY
from tests.support.simclient import connect, open_shell, wait_until

MORE = " --More-- "
ERASE = "\b" * 10


async def test_space_shows_the_next_page(device: SimDevice) -> None:
    shell = await open_shell(device)
    first = await shell.command("show lines 60", prompt=MORE)
    assert first.endswith("line 24\r\n" + MORE)
    assert "line 25" not in first
    shell.send(" ")
    second = await shell.read_until(MORE)
    assert second.startswith(ERASE + "line 25\r\n")
    assert second.endswith("line 48\r\n" + MORE)
    shell.send(" ")
    rest = await shell.read_until(">$")
    assert rest == ERASE + "".join(f"line {i}\r\n" for i in range(49, 61)) + "sim-echo-0001>"
    shell.close()


async def test_enter_shows_one_more_line(device: SimDevice) -> None:
    shell = await open_shell(device)
    await shell.command("show lines 30", prompt=MORE)
    shell.send("\r\n")  # \r\n is one key press
    assert await shell.read_until(MORE) == ERASE + "line 25\r\n" + MORE
    shell.send("\r")
    assert await shell.read_until(MORE) == ERASE + "line 26\r\n" + MORE
    shell.send("q")
    assert await shell.read_until(">$") == ERASE + "sim-echo-0001>"
    assert await shell.command("ok") == "ok\r\necho: ok\r\nsim-echo-0001>"
    shell.close()


async def test_no_paging_when_engine_disables_it(device: SimDevice) -> None:
    shell = await open_shell(device)
    await shell.command("terminal length 0")
    text = await shell.command("show lines 60")
    assert MORE not in text
    assert "line 60\r\n" in text
    shell.close()


async def test_vty_limit_refuses_extra_sessions_until_one_closes() -> None:
    async with Simulator(devices=1, platforms=["echo"], registry=REGISTRY, max_sessions=2) as sim:
        device = sim.devices[0]
        shells = [await open_shell(device), await open_shell(device)]
        with pytest.raises(asyncssh.DisconnectError) as info:
            await connect(device)
        assert info.value.code == asyncssh.DISC_TOO_MANY_CONNECTIONS
        assert "All lines are busy" in info.value.reason
        assert device.stats.sessions_refused == 1
        assert device.stats.peak_sessions == 2
        shells[0].close()
        await wait_until(lambda: device.stats.sessions_open == 1)
        third = await open_shell(device)
        assert "echo: ok" in await third.command("ok")
        third.close()
        shells[1].close()


async def test_idle_session_times_out_with_a_message() -> None:
    async with Simulator(
        devices=1, platforms=["echo"], registry=REGISTRY, exec_timeout_s=0.3
    ) as sim:
        shell = await open_shell(sim.devices[0])
        text = await shell.read_to_eof()
        assert "idle timeout" in text
        await asyncio.wait_for(shell.conn.wait_closed(), 5)
        await wait_until(lambda: sim.devices[0].stats.sessions_open == 0)


async def test_idle_timeout_also_applies_at_the_pager() -> None:
    async with Simulator(
        devices=1, platforms=["echo"], registry=REGISTRY, exec_timeout_s=1.0
    ) as sim:
        shell = await open_shell(sim.devices[0])
        await shell.command("show lines 60", prompt=MORE)
        assert "idle timeout" in await shell.read_to_eof()


async def test_per_device_overrides_of_vty_lines_and_idle_timeout(device: SimDevice) -> None:
    device.set_faults(max_sessions=1)
    shell = await open_shell(device)
    with pytest.raises(asyncssh.DisconnectError):
        await connect(device)
    shell.close()
    await wait_until(lambda: device.stats.sessions_open == 0)
    device.set_faults(max_sessions=None, exec_timeout_s=0.2)
    idle = await open_shell(device)
    assert "idle timeout" in await idle.read_to_eof()

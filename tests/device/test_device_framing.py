"""Framed reads over real SSH: cancellation, lost connections and auto-reconnect."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable

import pytest

from netfleet.core.errors import ConnectionLost
from netfleet.device import Device
from netfleet_sim import Simulator

MakeDevice = Callable[..., Device]


async def _busy(dev: Device) -> None:
    while dev._channel is None or not dev._channel.busy:  # noqa: ASYNC110
        await asyncio.sleep(0)


async def test_a_cancelled_command_never_gives_its_output_to_the_next(
    ios_sim: Simulator, make_device: MakeDevice
) -> None:
    d = ios_sim.devices[0]
    async with make_device(d) as dev:
        d.set_faults(latency_ms=300)
        slow = asyncio.ensure_future(dev.send_command("show version"))
        await _busy(dev)
        slow.cancel()
        with pytest.raises(asyncio.CancelledError):
            await slow
        assert dev.dirty
        d.clear_faults()
        after = await dev.send_command("show clock")
        assert "Cisco IOS" not in after.output
        assert re.match(r"\*?\d\d:\d\d:\d\d", after.output)
        assert d.stats.logins == 2  # the dirty session was replaced


async def test_wait_for_timeout_marks_the_session_dirty(
    ios_sim: Simulator, make_device: MakeDevice
) -> None:
    d = ios_sim.devices[0]
    async with make_device(d, auto_reconnect=False) as dev:
        d.set_faults(hang_on="show clock")
        task = asyncio.ensure_future(dev.send_command("show clock"))
        await _busy(dev)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        with pytest.raises(ConnectionLost, match="out of step"):
            await dev.send_command("show version")


async def test_auto_reconnect_reopens_after_a_lost_connection(
    ios_sim: Simulator, make_device: MakeDevice
) -> None:
    d = ios_sim.devices[0]
    async with make_device(d) as dev:
        d.set_faults(drop_mid_output=True)
        with pytest.raises(ConnectionLost):
            await dev.send_command("show running-config")
        d.clear_faults()
        again = await dev.send_command("show running-config")
        assert again.ok
        assert again.output.rstrip().endswith("end")
        assert dev.level == "privileged"
        assert d.stats.logins == 2


async def test_without_auto_reconnect_a_lost_connection_is_reported(
    ios_sim: Simulator, make_device: MakeDevice
) -> None:
    d = ios_sim.devices[0]
    async with make_device(d, auto_reconnect=False) as dev:
        d.set_faults(drop_mid_output=True)
        with pytest.raises(ConnectionLost):
            await dev.send_command("show version")
        with pytest.raises(ConnectionLost, match="lost"):
            await dev.send_command("show version")

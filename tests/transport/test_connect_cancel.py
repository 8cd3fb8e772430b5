"""A connect cancelled just as its SSH connection completes closes that connection.

The worker's lease fence stops attempts by cancelling them; a cancel that lands in the
same loop iteration as the end of the handshake (after a pause, or on a starved loop)
must not leave the connection open at the device, known to no pool and counted by no
store."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncssh
import pytest

from netfleet_sim import Simulator
from tests.support.device_fixtures import MakeDevice
from tests.support.patience import PATIENCE


async def _until(check: Any, what: str, timeout: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout * PATIENCE
    while not check():
        if loop.time() > end:
            raise AssertionError(f"timed out waiting for: {what}")
        await asyncio.sleep(0.02)


async def test_a_cancel_landing_as_the_connection_completes_closes_it(
    ios_sim: Simulator, make_device: MakeDevice, monkeypatch: pytest.MonkeyPatch
) -> None:
    sim_device = ios_sim.devices[0]
    device = make_device(sim_device)
    real = asyncssh.connect
    opened: list[asyncssh.SSHClientConnection] = []
    caller: list[asyncio.Task[None]] = []

    async def connect_then_cancelled(*args: Any, **kwargs: Any) -> asyncssh.SSHClientConnection:
        conn = await real(*args, **kwargs)
        opened.append(conn)
        caller[0].cancel()  # lands before the caller sees the connection
        return conn

    monkeypatch.setattr(asyncssh, "connect", connect_then_cancelled)
    caller.append(asyncio.create_task(device.open()))
    with pytest.raises(asyncio.CancelledError):
        await caller[0]
    assert len(opened) == 1
    await _until(opened[0].is_closed, "the client connection closed")
    await _until(lambda: sim_device.stats.sessions_open == 0, "the device's session closed")


async def test_a_cancel_during_the_handshake_leaves_no_session(
    ios_sim: Simulator, make_device: MakeDevice
) -> None:
    sim_device = ios_sim.devices[0]
    sim_device.set_faults(login_delay_ms=2000)
    device = make_device(sim_device)
    opening = asyncio.create_task(device.open())
    await _until(lambda: sim_device.stats.sessions_open == 1, "the connection arrived")
    opening.cancel()
    with pytest.raises(asyncio.CancelledError):
        await opening
    await _until(lambda: sim_device.stats.sessions_open == 0, "the device's session closed")


async def test_a_cancel_landing_as_the_shell_opens_is_not_dropped(
    ios_sim: Simulator, make_device: MakeDevice, monkeypatch: pytest.MonkeyPatch
) -> None:
    # On Python 3.11 ``asyncio.wait_for`` returned the shell and dropped the cancel: the
    # fenced attempt went on talking to the device.
    sim_device = ios_sim.devices[0]
    device = make_device(sim_device)
    real = asyncssh.SSHClientConnection.create_session
    caller: list[asyncio.Task[None]] = []

    async def open_then_cancelled(self: Any, *args: Any, **kwargs: Any) -> Any:
        opened = await real(self, *args, **kwargs)
        caller[0].cancel()  # lands as the shell opens
        return opened

    monkeypatch.setattr(asyncssh.SSHClientConnection, "create_session", open_then_cancelled)
    caller.append(asyncio.create_task(device.open()))
    with pytest.raises(asyncio.CancelledError):
        await caller[0]
    await _until(lambda: sim_device.stats.sessions_open == 0, "the device's session closed")

"""Every simulator fault, bad input, and the out-of-step guard."""

from __future__ import annotations

import asyncio
import re
import socket
from collections.abc import Callable
from pathlib import Path

import pytest

from netfleet.core.errors import (
    AuthenticationFailed,
    CommandTimeout,
    ConnectionLost,
    ConnectionRefused,
    ConnectTimeout,
    SessionLimitReached,
)
from netfleet.device import Device
from netfleet.transport import Timeouts
from netfleet_sim import Simulator

MakeDevice = Callable[..., Device]


async def test_drop_mid_output_is_connection_lost(
    ios_sim: Simulator, make_device: MakeDevice
) -> None:
    d = ios_sim.devices[0]
    async with make_device(d) as dev:
        d.set_faults(drop_mid_output=True)
        results = await dev.send_commands(["show version", "show clock", "show version"])
        assert results[0].error_kind == "connection_lost"
        assert "'show version': " in (results[0].error or "")  # names the command cut short
        assert [r.error_kind for r in results[1:]] == ["not_run", "not_run"]
        assert dev.closed
        assert dev.dirty
        with pytest.raises(ConnectionLost, match=d.name):
            await dev.send_command("show clock")


async def test_reboot_closes_the_session_and_a_new_one_works(
    ios_sim: Simulator, make_device: MakeDevice
) -> None:
    d = ios_sim.devices[0]
    async with make_device(d) as dev:
        assert (await dev.send_command("show clock")).ok
        await d.reboot()
        with pytest.raises(ConnectionLost, match=rf"^{d.name}: .*(closed|reset) the connection"):
            await dev.send_command("show clock")
        assert dev.closed
    async with make_device(d) as dev:
        assert (await dev.send_command("show clock")).ok


async def test_hang_is_command_timeout_then_session_is_dirty(
    ios_sim: Simulator, make_device: MakeDevice
) -> None:
    d = ios_sim.devices[0]
    async with make_device(d, command_timeout=0.3, auto_reconnect=False) as dev:
        d.set_faults(hang_on="show clock")
        with pytest.raises(CommandTimeout, match="show clock") as info:
            await dev.send_command("show clock")
        assert d.name in str(info.value)
        assert dev.dirty
        assert not await dev.is_alive()
        with pytest.raises(ConnectionLost, match="out of step"):
            await dev.send_command("show version")


async def test_late_answer_never_becomes_the_next_commands_output(
    ios_sim: Simulator, make_device: MakeDevice
) -> None:
    d = ios_sim.devices[0]
    async with make_device(d, command_timeout=0.2) as dev:
        clock = (await dev.send_command("show clock")).output
        d.set_faults(latency_ms=600)
        with pytest.raises(CommandTimeout):
            await dev.send_command("show version")
        d.clear_faults()
        # The device prints show version's output late; the next command must not see it.
        after = await dev.send_command("show clock")
        assert "Cisco IOS" not in after.output
        assert re.match(r"\*?\d\d:\d\d:\d\d", after.output)
        assert len(after.output.splitlines()) == len(clock.splitlines())
        version = await dev.send_command("show version")
        assert version.output.startswith("Cisco IOS Software")
        assert not dev.dirty
        assert d.stats.logins == 2  # the guard reopened the session


async def test_vty_limit_is_session_limit_reached(make_device: MakeDevice) -> None:
    async with Simulator(devices=1, platforms=["cisco_ios"], base_port=0, max_sessions=1) as sim:
        d = sim.devices[0]
        async with make_device(d):
            with pytest.raises(SessionLimitReached, match=d.name) as info:
                async with make_device(d):
                    pass
            assert "busy" in str(info.value)
            assert info.value.transient


async def test_refused_auth_tries_no_more_and_is_authentication_failed(
    ios_sim: Simulator, make_device: MakeDevice
) -> None:
    d = ios_sim.devices[0]
    d.set_faults(refuse_auth=True)
    with pytest.raises(AuthenticationFailed, match=d.name) as info:
        async with make_device(d, password="s3cret-Pw"):
            pass
    assert not info.value.transient
    assert "s3cret-Pw" not in str(info.value)
    assert "s3cret-Pw" not in repr(info.value)


async def test_device_closing_at_login_is_a_clear_error(
    ios_sim: Simulator, make_device: MakeDevice
) -> None:
    d = ios_sim.devices[0]
    d.set_faults(refuse_sessions=True)
    with pytest.raises(
        ConnectionLost,
        match=rf"{d.name}: 127.0.0.1:{d.port} (closed|reset) the connection during handshake",
    ):
        async with make_device(d):
            pass


async def test_wrong_port_is_connection_refused_naming_device_and_address(
    make_device: MakeDevice, ios_sim: Simulator
) -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there now
    d = ios_sim.devices[0]
    with pytest.raises(
        ConnectionRefused, match=rf"{d.name}: connection refused by 127.0.0.1:{port}"
    ):
        async with make_device(d, port=port):
            pass


async def test_silent_server_is_handshake_timeout(
    make_device: MakeDevice, ios_sim: Simulator
) -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()
        writer.close()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    quick = Timeouts(tcp=2.0, handshake=0.3, auth=2.0, prompt=2.0)
    try:
        with pytest.raises(ConnectTimeout, match="handshake"):
            async with make_device(ios_sim.devices[0], port=port, timeouts=quick):
                pass
    finally:
        server.close()
        await server.wait_closed()


async def test_failed_open_closes_its_session_log(
    ios_sim: Simulator, make_device: MakeDevice, tmp_path: Path
) -> None:
    d = ios_sim.devices[0]
    d.set_faults(refuse_auth=True)
    log = tmp_path / "r1.log"
    dev = make_device(d, session_log=log)
    with pytest.raises(AuthenticationFailed):
        await dev.open()
    assert dev.closed
    text = await asyncio.to_thread(log.read_text)
    assert text.splitlines()[-1].endswith(f"close {d.name}")


class BlackHoleProxy:
    """A TCP relay to one port that can go silent (forward nothing, close nothing)."""

    def __init__(self, port: int) -> None:
        self.target = port
        self.silent = False
        self.port = 0
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def __aenter__(self) -> BlackHoleProxy:
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target)
        for src, dst in ((reader, up_writer), (up_reader, writer)):
            task = asyncio.create_task(self._pipe(src, dst))
            self._tasks.add(task)

    async def _pipe(self, src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
        try:
            while data := await src.read(65536):
                if not self.silent:
                    dst.write(data)
        finally:
            dst.close()


async def test_keepalives_detect_a_silent_peer_before_the_command_timeout(
    ios_sim: Simulator, make_device: MakeDevice
) -> None:
    d = ios_sim.devices[0]
    async with (
        BlackHoleProxy(d.port) as proxy,
        make_device(d, port=proxy.port, keepalive_seconds=0.1, command_timeout=30) as dev,
    ):
        assert (await dev.send_command("show clock")).ok
        proxy.silent = True  # a dead path: nothing arrives, nothing is closed
        with pytest.raises(ConnectionLost, match=d.name):
            await dev.send_command("show clock")

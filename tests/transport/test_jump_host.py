"""Devices reached through a bastion: many sessions share one bastion SSH connection."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import asyncssh
import pytest

from netfleet.core.errors import AuthenticationFailed
from netfleet.core.models import Credential, JumpHost
from netfleet.device import Device
from netfleet.transport import JUMP_HOSTS
from netfleet_sim import Simulator

MakeDevice = Callable[..., Device]


@dataclass
class Bastion:
    port: int
    connections: int = 0
    forwarded: list[tuple[str, int]] = field(default_factory=list)


class _BastionServer(asyncssh.SSHServer):
    def __init__(self, bastion: Bastion) -> None:
        self._bastion = bastion

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self._bastion.connections += 1

    def begin_auth(self, username: str) -> bool:
        return True

    def password_auth_supported(self) -> bool:
        return True

    def validate_password(self, username: str, password: str) -> bool:
        return username == "jump" and password == "jump-pw"

    def connection_requested(
        self, dest_host: str, dest_port: int, orig_host: str, orig_port: int
    ) -> bool:
        self._bastion.forwarded.append((dest_host, dest_port))
        return dest_host in ("127.0.0.1", "localhost")  # direct-tcpip to loopback only


@pytest.fixture
async def bastion() -> AsyncIterator[Bastion]:
    key = asyncssh.generate_private_key("ssh-ed25519")
    state = Bastion(port=0)
    server = await asyncssh.create_server(
        lambda: _BastionServer(state), "127.0.0.1", 0, server_host_keys=[key]
    )
    state.port = server.sockets[0].getsockname()[1]
    yield state
    server.close()
    await server.wait_closed()


async def test_sessions_through_one_shared_bastion_connection(
    bastion: Bastion, make_device: MakeDevice
) -> None:
    jump = JumpHost(host="127.0.0.1", port=bastion.port, credential=Credential("jump", "jump-pw"))
    async with Simulator(devices=3, platforms=["cisco_ios"], base_port=0) as sim:
        devices = [make_device(d, jump_host=jump) for d in sim.devices]
        await asyncio.gather(*(dev.open() for dev in devices))
        try:
            assert bastion.connections == 1
            assert sorted(bastion.forwarded) == sorted((d.host, d.port) for d in sim.devices)
            assert JUMP_HOSTS.refs(jump) == 3
            outputs = await asyncio.gather(*(dev.send_command("show version") for dev in devices))
            assert all(r.output.startswith("Cisco IOS Software") for r in outputs)
        finally:
            await asyncio.gather(*(dev.close() for dev in devices))
        assert JUMP_HOSTS.refs(jump) == 0
        # A new session opens a new bastion connection once the old one was released.
        async with make_device(sim.devices[0], jump_host=jump) as dev:
            assert await dev.is_alive()
        assert bastion.connections == 2


async def test_bastion_refusing_credentials_names_the_jump_host(
    bastion: Bastion, make_device: MakeDevice, ios_sim: Simulator
) -> None:
    jump = JumpHost(host="127.0.0.1", port=bastion.port, credential=Credential("jump", "nope"))
    d = ios_sim.devices[0]
    with pytest.raises(AuthenticationFailed, match=rf"{d.name}: via jump host 127.0.0.1:"):
        async with make_device(d, jump_host=jump):
            pass
    assert JUMP_HOSTS.refs(jump) == 0

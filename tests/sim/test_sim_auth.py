"""Authentication methods, the pre-auth banner and legacy algorithm sets."""

from __future__ import annotations

import asyncssh
import pytest

from netfleet_sim import SimDevice, Simulator
from tests.support.echo_platform import REGISTRY
from tests.support.simclient import connect, open_shell


class BannerClient(asyncssh.SSHClient):
    banner = ""

    def auth_banner_received(self, msg: str, lang: str) -> None:
        BannerClient.banner = msg


async def test_password_auth_and_banner(device: SimDevice) -> None:
    conn, _ = await asyncssh.create_connection(
        BannerClient,
        device.host,
        device.port,
        username="admin",
        password="admin",
        known_hosts=None,
        client_keys=None,
        config=None,
        preferred_auth="password",
    )
    conn.close()
    assert BannerClient.banner == "Authorized access only\r\n"


async def test_keyboard_interactive_auth(device: SimDevice) -> None:
    shell = await open_shell(device, preferred_auth="keyboard-interactive")
    shell.close()
    with pytest.raises(asyncssh.PermissionDenied):
        await connect(device, preferred_auth="keyboard-interactive", password="bad")
    assert device.stats.logins == 1
    assert device.stats.login_failures == 1


async def test_public_key_auth() -> None:
    good = asyncssh.generate_private_key("ssh-ed25519")
    bad = asyncssh.generate_private_key("ssh-ed25519")
    async with Simulator(
        devices=1, platforms=["echo"], registry=REGISTRY, authorized_keys=[good.export_public_key()]
    ) as sim:
        device = sim.devices[0]
        shell = await open_shell(device, client_keys=[good], password=None)
        shell.close()
        with pytest.raises(asyncssh.PermissionDenied):
            await connect(device, client_keys=[bad], password=None)
        assert device.stats.logins == 1
        assert device.stats.login_failures == 1


async def test_only_enabled_methods_are_offered() -> None:
    async with Simulator(
        devices=1, platforms=["echo"], registry=REGISTRY, auth=["keyboard-interactive"]
    ) as sim:
        device = sim.devices[0]
        with pytest.raises(asyncssh.PermissionDenied):
            await connect(device, preferred_auth="password")
        (await open_shell(device)).close()


async def test_wrong_username_fails(device: SimDevice) -> None:
    with pytest.raises(asyncssh.PermissionDenied):
        await connect(device, username="root")


LEGACY_CLIENT = {
    "kex_algs": ["diffie-hellman-group14-sha1"],
    "encryption_algs": ["aes128-cbc"],
    "mac_algs": ["hmac-sha1"],
    "server_host_key_algs": ["ssh-rsa"],
}
MODERN_CLIENT = {"kex_algs": ["curve25519-sha256"], "encryption_algs": ["aes128-ctr"]}


async def test_legacy_algorithms_are_off_by_default(device: SimDevice) -> None:
    with pytest.raises(asyncssh.KeyExchangeFailed):
        await connect(device, **LEGACY_CLIENT)


async def test_legacy_algorithms_when_enabled() -> None:
    async with Simulator(
        devices=1, platforms=["echo"], registry=REGISTRY, legacy_algorithms=True
    ) as sim:
        shell = await open_shell(sim.devices[0], **LEGACY_CLIENT)
        assert shell.conn.get_extra_info("send_cipher") == "aes128-cbc"
        shell.close()
        (await open_shell(sim.devices[0], **MODERN_CLIENT)).close()


async def test_legacy_only_refuses_modern_clients() -> None:
    async with Simulator(
        devices=1, platforms=["echo"], registry=REGISTRY, legacy_algorithms="only"
    ) as sim:
        with pytest.raises(asyncssh.KeyExchangeFailed):
            await connect(sim.devices[0], **MODERN_CLIENT)
        (await open_shell(sim.devices[0], **LEGACY_CLIENT)).close()

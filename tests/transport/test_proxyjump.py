"""``ProxyJump`` in the ssh config: a real OpenSSH sshd on loopback is the jump host to a
simulated device, as ``ssh -J`` would reach it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from netfleet.core.errors import ConnectError, InputError
from netfleet.core.models import Credential, DeviceSpec, JumpHost
from netfleet.core.settings import ConnectSettings
from netfleet.device import Device
from netfleet.transport import JUMP_HOSTS
from netfleet_sim import Simulator
from tests.support.sshd import RealSshd, start_sshd


@pytest.fixture
def sshd(tmp_path: Path) -> Iterator[RealSshd]:
    server = start_sshd(tmp_path, ps1="bastion$ ")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with Simulator(devices=1, platforms=["cisco_ios"], base_port=0) as s:
        yield s


def _config(tmp_path: Path, sshd: RealSshd, device_port: int, proxy_jump: str) -> Path:
    path = tmp_path / "ssh_config"
    path.write_text(
        "Host nf-bastion\n"
        "    Hostname 127.0.0.1\n"
        f"    Port {sshd.port}\n"
        f"    User {sshd.username}\n"
        f"    IdentityFile {sshd.client_key}\n"
        "Host nf-behind-bastion\n"
        "    Hostname 127.0.0.1\n"
        f"    Port {device_port}\n"
        f"    ProxyJump {proxy_jump}\n",
        encoding="utf-8",
    )
    return path


def _spec(sim: Simulator) -> DeviceSpec:
    d = sim.devices[0]
    return DeviceSpec(
        name="behind1",
        host="nf-behind-bastion",
        platform="cisco_ios",
        credentials=(Credential(d.username, d.password, enable_secret=d.enable_secret),),
    )


def _settings(tmp_path: Path, config: Path) -> ConnectSettings:
    return ConnectSettings(
        ssh_config=config, known_hosts=tmp_path / "known_hosts", host_key_policy="accept-new"
    )


@pytest.mark.parametrize("form", ["alias", "user@host:port"])
async def test_a_device_behind_a_proxyjump_bastion(
    sshd: RealSshd, sim: Simulator, tmp_path: Path, form: str
) -> None:
    jump = "nf-bastion" if form == "alias" else f"{sshd.username}@nf-bastion:{sshd.port}"
    config = _config(tmp_path, sshd, sim.devices[0].port, jump)
    async with Device.from_spec(_spec(sim), _settings(tmp_path, config)) as dev:
        assert JUMP_HOSTS.refs(_jump(jump)) == 1
        shown = await dev.send_command("show version")
        assert shown.ok, shown.error
        assert dev.hostname == sim.devices[0].name
    assert len(JUMP_HOSTS) == 0  # the bastion connection closed with its last session
    # The jump host's key was checked and pinned like any other (under the name used).
    pinned = (tmp_path / "known_hosts").read_text()
    assert ("nf-bastion " if form == "alias" else f"[nf-bastion]:{sshd.port} ") in pinned


def _jump(text: str) -> JumpHost:
    _, _, rest = text.rpartition("@")
    host, _, port = rest.partition(":")
    return JumpHost(host=host, port=int(port or 22))


async def test_the_device_is_reached_only_through_the_bastion(
    sshd: RealSshd, sim: Simulator, tmp_path: Path
) -> None:
    config = _config(tmp_path, sshd, sim.devices[0].port, "nf-bastion")
    sshd.stop()
    with pytest.raises(ConnectError, match=r"^behind1: via jump host nf-bastion:22"):
        async with Device.from_spec(_spec(sim), _settings(tmp_path, config)):
            pass
    assert sim.devices[0].stats.logins == 0


async def test_a_proxyjump_chain_is_a_clear_error(sim: Simulator, tmp_path: Path) -> None:
    path = tmp_path / "ssh_config"
    path.write_text("Host nf-behind-bastion\n    ProxyJump a.example,b.example\n")
    with pytest.raises(InputError, match="chain of jump hosts"):
        async with Device.from_spec(_spec(sim), _settings(tmp_path, path)):
            pass

"""``~/.ssh/config``: Hostname, Port and IdentityFile apply as with ssh; it can be turned off."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from netfleet.core.errors import ConnectError
from netfleet.core.models import Credential, DeviceSpec
from netfleet.core.settings import ConnectSettings
from netfleet.device import Device
from tests.support.sshd import RealSshd, start_sshd


@pytest.fixture
def sshd(tmp_path: Path) -> Iterator[RealSshd]:
    server = start_sshd(tmp_path, ps1="nftest@nf-sshd:\\w$ ")
    try:
        yield server
    finally:
        server.stop()


def _config(tmp_path: Path, server: RealSshd) -> Path:
    path = tmp_path / "ssh_config"
    path.write_text(
        "Host nf-lab-alias\n"
        "    Hostname 127.0.0.1\n"
        f"    Port {server.port}\n"
        f"    IdentityFile {server.client_key}\n",
        encoding="utf-8",
    )
    return path


async def test_alias_port_and_identity_file_come_from_the_ssh_config(
    sshd: RealSshd, tmp_path: Path
) -> None:
    spec = DeviceSpec(
        name="lab1",
        host="nf-lab-alias",
        platform="linux",
        credentials=(Credential(username=sshd.username),),
    )
    settings = ConnectSettings(
        ssh_config=_config(tmp_path, sshd),
        known_hosts=tmp_path / "known_hosts",
        host_key_policy="accept-new",
    )
    async with Device.from_spec(spec, settings) as dev:
        shown = await dev.send_command("echo via-ssh-config")
        assert shown.output == "via-ssh-config"


async def test_ssh_config_can_be_turned_off(sshd: RealSshd, tmp_path: Path) -> None:
    spec = DeviceSpec(
        name="lab1",
        host="nf-lab-alias",
        platform="linux",
        credentials=(Credential(username=sshd.username),),
    )
    settings = ConnectSettings(
        ssh_config=None, known_hosts=tmp_path / "known_hosts", host_key_policy="accept-new"
    )
    with pytest.raises(ConnectError, match=r"^lab1: "):
        async with Device.from_spec(spec, settings):
            pass

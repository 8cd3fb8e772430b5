"""known_hosts as OpenSSH writes it: hashed entries (``ssh-keygen -H``), ``@revoked``."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import asyncssh
import pytest

from netfleet.core.errors import HostKeyError, HostKeyMismatch
from netfleet.device import Device
from netfleet_sim import SimDevice, Simulator


def _device(d: SimDevice, known_hosts: Path, policy: str) -> Device:
    return Device(
        d.host,
        port=d.port,
        platform=d.platform,
        username=d.username,
        password=d.password,
        host_key_policy=policy,  # type: ignore[arg-type]
        known_hosts=known_hosts,
        name=d.name,
    )


def _hash_file(path: Path) -> None:
    keygen = shutil.which("ssh-keygen")
    if keygen is None:
        pytest.skip("ssh-keygen (openssh-client) is not installed")
    subprocess.run([keygen, "-H", "-f", str(path)], check=True, capture_output=True)
    path.with_name(path.name + ".old").unlink()
    assert path.read_text().startswith("|1|")


async def test_hashed_entries_are_honoured(tmp_path: Path) -> None:
    known = tmp_path / "known_hosts"
    async with Simulator(devices=2, platforms=["linux"]) as sim:
        first, second = sim.devices
        async with _device(first, known, "accept-new"):
            pass
        _hash_file(known)
        async with _device(first, known, "strict") as dev:  # the hashed pin is found
            assert (await dev.send_command("whoami")).output == "admin"
        # A hashed entry for the other port, with another key, is a mismatch.
        line = known.read_text().split()
        other = f"[{second.host}]:{second.port}"
        stranger = asyncssh.generate_private_key("ssh-ed25519").export_public_key().decode()
        known.write_text(f"{other} {stranger}")
        _hash_file(known)
        known.write_text(known.read_text() + " ".join(line) + "\n")
        with pytest.raises(HostKeyMismatch, match=rf"host key of \[{second.host}\]:{second.port}"):
            async with _device(second, known, "strict"):
                pass


async def test_revoked_key_is_refused_and_a_broken_file_is_a_clear_error(
    tmp_path: Path,
) -> None:
    known = tmp_path / "known_hosts"
    async with Simulator(devices=1, platforms=["linux"]) as sim:
        d = sim.devices[0]
        async with _device(d, known, "accept-new"):
            pass
        pinned = known.read_text().strip()
        known.write_text(f"{pinned}\n@revoked {pinned}\n")
        with pytest.raises(HostKeyMismatch, match="marked @revoked"):
            async with _device(d, known, "strict"):
                pass
        known.write_text("@bogus-marker x y z\n")
        with pytest.raises(HostKeyError, match=rf"cannot use known_hosts {known}"):
            async with _device(d, known, "strict"):
                pass

"""Host keys survive a restart of the simulator (in the cache directory by default), so a
client's pinned key stays valid; ``ephemeral_host_keys`` opts out."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import netfleet_sim.hostkeys as hostkeys
from netfleet.core.errors import HostKeyMismatch
from netfleet.device import Device
from netfleet_sim import SimDevice, Simulator
from netfleet_sim.hostkeys import default_key_dir


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


async def _restart(tmp_path: Path, policy: str, **kwargs: Any) -> None:
    """Pin the key of a first run, then connect to a second run on the same port."""
    known = tmp_path / "known_hosts"
    async with Simulator(devices=1, platforms=["linux"], **kwargs) as sim:
        port = sim.devices[0].port
        async with _device(sim.devices[0], known, "accept-new"):
            pass
    if kwargs.get("ephemeral_host_keys"):
        hostkeys._process_keys = None  # as in a new process: new ephemeral keys
    again = Simulator(devices=1, platforms=["linux"], base_port=port, **kwargs)
    async with again, _device(again.devices[0], known, policy) as dev:
        assert (await dev.send_command("whoami")).output == "admin"


async def _run_twice(tmp_path: Path, **kwargs: Any) -> None:
    await _restart(tmp_path, "strict", **kwargs)


async def test_restart_on_the_same_port_keeps_the_pinned_key(tmp_path: Path) -> None:
    await _run_twice(tmp_path, host_key_dir=tmp_path / "keys")
    assert (tmp_path / "keys" / "ssh_host_ed25519_key").stat().st_mode & 0o077 == 0


async def test_default_key_dir_is_under_the_user_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NETFLEET_SIM_KEY_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert default_key_dir() == tmp_path / "cache" / "netfleet-sim"
    await _run_twice(tmp_path)
    assert (tmp_path / "cache" / "netfleet-sim" / "ssh_host_rsa_key").is_file()


async def test_ephemeral_keys_change_and_strict_pinning_notices(tmp_path: Path) -> None:
    saved = hostkeys._process_keys
    hostkeys._process_keys = None
    try:
        with pytest.raises(HostKeyMismatch, match="changed"):
            await _restart(tmp_path, "strict", ephemeral_host_keys=True)
    finally:
        hostkeys._process_keys = saved

"""Host-key stability and device state persistence under a state directory."""

from __future__ import annotations

from pathlib import Path

from netfleet_sim import Simulator
from tests.support.echo_platform import REGISTRY
from tests.support.simclient import connect, open_shell


def make(state_dir: Path | None) -> Simulator:
    return Simulator(devices=2, platforms=["echo"], registry=REGISTRY, state_dir=state_dir)


async def host_key(sim: Simulator) -> bytes:
    async with await connect(sim.devices[0]) as conn:
        key = conn.get_server_host_key()
        assert key is not None
        return key.public_data


async def test_host_keys_are_stable_across_restarts(tmp_path: Path) -> None:
    async with make(tmp_path) as sim:
        first = await host_key(sim)
    async with make(tmp_path) as sim:
        assert await host_key(sim) == first
    async with make(tmp_path / "other") as sim:
        assert await host_key(sim) != first
    assert (tmp_path / "ssh_host_ed25519_key").stat().st_mode & 0o077 == 0


async def test_device_state_survives_a_restart(tmp_path: Path) -> None:
    async with make(tmp_path) as sim:
        shell = await open_shell(sim.devices[1])
        await shell.command("set saved 1")
        await shell.command("write memory")
        await shell.command("set unsaved 2")
        shell.close()
    assert (tmp_path / "devices" / f"{sim.devices[1].name}.json").exists()
    assert not (tmp_path / "devices" / f"{sim.devices[0].name}.json").exists()
    async with make(tmp_path) as sim:
        device = sim.devices[1]
        text = await (await open_shell(device)).command("show config")
        assert "saved 1" in text
        assert "unsaved 2" in text
        await device.reboot()
        text = await (await open_shell(device)).command("show config")
        assert "saved 1" in text
        assert "unsaved" not in text

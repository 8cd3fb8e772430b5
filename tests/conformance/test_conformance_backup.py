"""Backups against emulators netfleet was not written with: the platform's backup
command, the completeness check and normalisation on fake-switches' IOS and FakeNOS."""

from __future__ import annotations

from pathlib import Path

import pytest
from emulators import PASSWORD, USER, Emulator

from netfleet.configs.sanity import config_problem, prepare_config
from netfleet.core.errors import ConfigRejected
from netfleet.device import Device
from netfleet.jobs.backup import backup_plan, backup_text
from netfleet.platforms import contrib, load_platform_file
from netfleet.transport import Timeouts

QUICK = Timeouts(tcp=10.0, handshake=10.0, auth=10.0, prompt=10.0)


@pytest.fixture(scope="module", autouse=True)
def contrib_platforms() -> None:
    for name in ("fake_switches", "fakenos"):
        load_platform_file(contrib.path(name))


def _device(emu: Emulator, name: str, platform: str, known_hosts: Path) -> Device:
    return Device(
        "127.0.0.1",
        port=emu.ports[name],
        platform=platform,
        username=USER,
        password=PASSWORD,
        enable_secret=PASSWORD,
        host_key_policy="accept-new",
        known_hosts=known_hosts,
        name=name,
        timeouts=QUICK,
        command_timeout=10.0,
    )


async def _fetch(dev: Device, platform: str) -> str:
    plan = backup_plan(platform)
    results = [await dev.send_command(c) for c in plan.commands]
    return backup_text(plan, results, device=dev.name or "")


async def test_fake_switches_backup_is_complete_and_changes_only_with_config(
    fake_switches: Emulator, tmp_path: Path
) -> None:
    async with _device(fake_switches, "fsw1", "fake_switches_ios", tmp_path / "kh") as dev:
        first = prepare_config(await _fetch(dev, "cisco_ios"), "cisco_ios", device="fsw1")
        again = prepare_config(await _fetch(dev, "cisco_ios"), "cisco_ios", device="fsw1")
        assert first.sha256 == again.sha256
        assert "Building configuration" not in first.normalised
        pushed = await dev.send_config(["interface FastEthernet0/3", "description backup-conf"])
        assert pushed.ok, pushed.error
        changed = prepare_config(await _fetch(dev, "cisco_ios"), "cisco_ios", device="fsw1")
        assert changed.sha256 != first.sha256
        assert " description backup-conf" in changed.normalised
        cut = changed.text.rstrip().rsplit("\n", 3)[0]  # as a device that stopped early
        with pytest.raises(ConfigRejected, match="truncated"):
            prepare_config(cut, "cisco_ios", device="fsw1")


@pytest.mark.parametrize(
    ("name", "platform", "family"),
    [
        ("fn-cisco-ios", "cisco_ios", "cisco_ios"),
        ("fn-arista-eos", "arista_eos", "arista_eos"),
    ],
)
async def test_fakenos_running_config_passes_the_completeness_check(
    fakenos: Emulator, tmp_path: Path, name: str, platform: str, family: str
) -> None:
    async with _device(fakenos, name, platform, tmp_path / "kh") as dev:
        text = await _fetch(dev, platform)
        assert config_problem(text, family) is None, text[-300:]

"""netfleet against SSH emulators it was not written with: fake-switches and FakeNOS.

Unmodified built-in platforms where the emulator behaves like the vendor; the shipped
platform files in ``netfleet.platforms.contrib`` where it does not (see docs/platforms.md).
Show commands, prompts, errors and configuration pushes, over real SSH on loopback.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from emulators import PASSWORD, USER, Emulator

from netfleet.configs.predict import NOTE
from netfleet.device import Device
from netfleet.jobs.change_run import ChangePlan, dry_run
from netfleet.jobs.model import JobOptions
from netfleet.platforms import contrib, detect_platform, load_platform_file
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


@pytest.fixture
def known_hosts(tmp_path: Path) -> Path:
    return tmp_path / "known_hosts"


# --- fake-switches (IOS) -------------------------------------------------------------


async def test_fake_switches_show_commands_unmodified(
    fake_switches: Emulator, known_hosts: Path
) -> None:
    async with _device(fake_switches, "fsw1", "cisco_ios", known_hosts) as dev:
        # Privilege on open: the session is at enable as soon as it is open.
        assert (dev.prompt, dev.hostname) == ("fsw1#", "fsw1")
        version = await dev.send_command("show version")
        assert version.ok
        assert version.output.startswith("Cisco IOS Software, C3750 Software")
        assert detect_platform(version.output) == "cisco_ios"
        running = await dev.send_command("show running-config")
        assert running.ok
        assert running.output.startswith("Building configuration...")
        assert "hostname fsw1" in running.output
        assert "fsw1#" not in running.output


async def test_fake_switches_config_without_end_needs_the_contrib_file(
    fake_switches: Emulator, known_hosts: Path
) -> None:
    lines = ["interface FastEthernet0/2", "description nf-uplink"]
    async with _device(fake_switches, "fsw1", "cisco_ios", known_hosts) as dev:
        plain = await dev.send_config(lines)
        assert not plain.ok  # `end` is "No such command": a clear error, not a hang
        assert plain.error == "could not leave config level"
    async with _device(fake_switches, "fsw1", "fake_switches_ios", known_hosts) as dev:
        pushed = await dev.send_config(lines)
        assert pushed.ok, pushed.error
        assert dev.level == "privileged"
        shown = await dev.send_command("show running-config interface FastEthernet0/2")
        assert " description nf-uplink" in shown.output
        rejected = await dev.send_command("frobnicate now")
        assert not rejected.ok
        assert rejected.error == "No such command : frobnicate now"


async def test_fake_switches_contrib_stops_at_a_rejected_line(
    fake_switches: Emulator, known_hosts: Path
) -> None:
    async with _device(fake_switches, "fsw1", "fake_switches_ios", known_hosts) as dev:
        result = await dev.send_config(["interface FastEthernet0/3", "frobnicate", "shutdown"])
        assert not result.ok
        assert result.error == "'frobnicate': No such command : frobnicate"
        assert [r.command for r in result.results] == ["interface FastEthernet0/3", "frobnicate"]
        assert dev.level == "privileged"


# --- FakeNOS ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "platform", "version_text", "bad", "error"),
    [
        ("fn-cisco-ios", "cisco_ios", "Cisco IOS XE Software", "show nf-bogus", "% Invalid input"),
        ("fn-arista-eos", "arista_eos", "Software image version", "show nf-bogus", "% Invalid"),
        ("fn-cisco-asa", "fakenos_asa", "Adaptive Security Appliance", "nf-bogus", "Unknown"),
        ("fn-cisco-nxos", "fakenos_nxos", "Cisco Systems", "nf-bogus", "Unknown command"),
        ("fn-cisco-xr", "fakenos_xr", "Cisco IOS XR Software", "nf-bogus", "Unknown command"),
    ],
)
async def test_fakenos_cisco_like_show_and_errors(
    fakenos: Emulator,
    known_hosts: Path,
    name: str,
    platform: str,
    version_text: str,
    bad: str,
    error: str,
) -> None:
    host = name  # FakeNOS prompts are the inventory name
    async with _device(fakenos, name, platform, known_hosts) as dev:
        assert dev.prompt == f"{host}#"  # privilege on open
        version = await dev.send_command("show version")
        assert version.ok, version.error
        assert version_text in version.output
        assert f"{host}#" not in version.output
        failed = await dev.send_command(bad)
        assert not failed.ok
        assert (failed.error or "").startswith(error)


async def test_fakenos_junos_host_prompt_ex_version_and_master_line(
    fakenos: Emulator, known_hosts: Path
) -> None:
    async with _device(fakenos, "fn-juniper-junos", "fakenos_junos", known_hosts) as dev:
        assert dev.prompt == "fn-juniper-junos>"
        version = await dev.send_command("show version")
        assert version.ok
        assert "JUNOS EX  Software Suite" in version.output
        assert detect_platform(version.output) == "juniper_junos"
        vlans = await dev.send_command("show vlans")
        assert vlans.ok
        assert vlans.output.splitlines()[0].startswith("Routing instance")
        assert "{master:0}" not in vlans.output  # FakeNOS prints it above the prompt
        assert vlans.output.endswith("xe-0/0/9.0*")


async def test_fakenos_junos_with_the_builtin_platform_is_a_clear_prompt_error(
    fakenos: Emulator, known_hosts: Path
) -> None:
    from netfleet.core.errors import PromptNotFound

    quick = Timeouts(tcp=10.0, handshake=10.0, auth=10.0, prompt=0.5)
    dev = Device(
        "127.0.0.1",
        port=fakenos.ports["fn-juniper-junos"],
        platform="juniper_junos",
        username=USER,
        password=PASSWORD,
        host_key_policy="accept-new",
        known_hosts=known_hosts,
        name="fn-juniper-junos",
        timeouts=quick,
    )
    with pytest.raises(PromptNotFound, match=r"^fn-juniper-junos: no Juniper Junos prompt"):
        async with dev:
            pass


async def test_fake_switches_listed_as_junos_is_a_platform_mismatch(
    fake_switches: Emulator, known_hosts: Path
) -> None:
    from netfleet.core.errors import PlatformMismatch

    with pytest.raises(PlatformMismatch) as caught:
        async with _device(fake_switches, "fsw1", "juniper_junos", known_hosts):
            pass
    message = str(caught.value)
    assert message.startswith("fsw1: no Juniper Junos prompt after login: the device went quiet")
    assert "cisco_ios" in message, message
    assert message.endswith("; is the device's platform right?")


async def test_fakenos_linux_without_a_real_shell(fakenos: Emulator, known_hosts: Path) -> None:
    async with _device(fakenos, "fn-linux", "fakenos_linux", known_hosts) as dev:
        assert dev.prompt == "fn-linux$"
        shown = await dev.send_command("ip address show")
        assert shown.ok, shown.error
        assert shown.output.startswith("1: lo: <LOOPBACK,UP,LOWER_UP>")
        failed = await dev.send_command("nf-bogus")
        assert (failed.ok, failed.error) == (False, "Unknown command")


async def test_fake_switches_predicted_dry_run_matches_the_push(
    fake_switches: Emulator, known_hosts: Path
) -> None:
    lines = ["interface FastEthernet0/4", " description nf-predicted"]
    async with _device(fake_switches, "fsw1", "fake_switches_ios", known_hosts) as dev:
        cfg, outcome = await dry_run(dev, ChangePlan(lines), JobOptions(dry_run=True))
        assert cfg.ok, cfg.error
        assert outcome.diff_source == "predicted"
        diff = outcome.diff or ""
        assert NOTE in diff
        assert "+  description nf-predicted" in diff
        before = await dev.send_command("show running-config interface FastEthernet0/4")
        assert "nf-predicted" not in before.output  # the dry run sent nothing
        pushed = await dev.send_config(lines)
        assert pushed.ok, pushed.error
        shown = await dev.send_command("show running-config interface FastEthernet0/4")
        assert " description nf-predicted" in shown.output

"""Each device-trust defect, reproduced by a simulator variant, over real SSH."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from netfleet.core.errors import PlatformMismatch, PrivilegeError
from netfleet.device import Device
from netfleet.transport import Timeouts
from netfleet_sim import Simulator

MakeDevice = Callable[..., Device]
LONG = "core-distribution-sw-0042"  # 25 characters: IOS may cut it to 20 in config prompts


async def test_login_at_user_exec_enters_enable_and_reads_the_running_config(
    ios_sim: Simulator, make_device: MakeDevice
) -> None:
    d = ios_sim.devices[0]
    d.set_faults(login_level="user")
    async with make_device(d) as dev:
        assert dev.level == "privileged"
        run = await dev.send_command("show running-config")
        assert run.ok, run.error
        assert run.output.rstrip().endswith("end")
    async with make_device(d, enable=False) as dev:
        assert dev.level == "exec"
        assert dev.home_level == "exec"


async def test_login_at_privileged_needs_no_enable(
    ios_sim: Simulator, make_device: MakeDevice
) -> None:
    d = ios_sim.devices[0]
    d.set_faults(login_level="privileged")
    async with make_device(d, enable_secret=None) as dev:
        assert dev.level == "privileged"
        assert (await dev.send_command("show running-config")).ok


async def test_without_a_secret_the_session_stays_at_user_exec_and_says_why(
    ios_sim: Simulator, make_device: MakeDevice
) -> None:
    async with make_device(ios_sim.devices[0], enable_secret=None) as dev:
        assert dev.level == "exec"
        with pytest.raises(PrivilegeError, match="no enable secret"):
            await dev.enable()


async def test_a_blank_enable_secret_is_a_secret() -> None:
    async with Simulator(devices=1, platforms=["cisco_asa"], base_port=0, enable_secret="") as sim:
        d = sim.devices[0]
        async with Device(
            d.host,
            port=d.port,
            platform="cisco_asa",
            username=d.username,
            password=d.password,
            enable_secret="",
            host_key_policy="off",
        ) as dev:
            assert dev.level == "privileged"
            assert (await dev.send_command("show running-config")).ok


@pytest.mark.parametrize("cut", [0, 20])
async def test_long_hostnames_in_config_prompts_cut_or_full(
    ios_sim: Simulator, make_device: MakeDevice, cut: int
) -> None:
    d = ios_sim.devices[0]
    d.set_faults(config_host_len=cut)
    async with make_device(d) as dev:
        renamed = await dev.send_config([f"hostname {LONG}"])
        assert renamed.ok, renamed.error
        assert dev.hostname == LONG
        pushed = await dev.send_config(["interface Loopback7", " description long name"])
        assert pushed.ok, pushed.error
        assert dev.prompt == f"{LONG}#"


async def test_a_rejected_hostname_line_keeps_the_prompt_and_reports_the_device(
    ios_sim: Simulator, make_device: MakeDevice
) -> None:
    d = ios_sim.devices[0]
    async with make_device(d) as dev:
        before = dev.hostname
        result = await dev.send_config(["hostname"])  # incomplete: the device refuses it
        assert not result.ok
        assert result.error_kind == "command_error"
        assert result.error is not None
        assert "Incomplete command" in result.error
        assert dev.hostname == before
        assert (await dev.send_command("show clock")).ok


async def test_a_prompt_like_motd_line_is_not_the_prompt(
    ios_sim: Simulator, make_device: MakeDevice
) -> None:
    d = ios_sim.devices[0]
    d.set_faults(prompt_motd="core-sw1#")
    async with make_device(d) as dev:
        assert dev.hostname == d.name
        assert dev.banner.splitlines()[-1] == "core-sw1#"
        assert (await dev.send_command("show clock")).ok


async def test_a_motd_line_shaped_like_another_platforms_prompt_is_not_the_prompt(
    ios_sim: Simulator, make_device: MakeDevice
) -> None:
    d = ios_sim.devices[0]
    d.set_faults(prompt_motd="admin@core-fw>")  # a Junos prompt's shape
    async with make_device(d) as dev:
        assert dev.hostname == d.name
        assert dev.banner.splitlines()[-1] == "admin@core-fw>"
        assert (await dev.send_command("show clock")).ok


@pytest.mark.parametrize(
    ("actual", "listed"), [("juniper_junos", "cisco_ios"), ("cisco_xr", "cisco_nxos")]
)
async def test_a_device_listed_under_the_wrong_platform_fails_at_its_prompt(
    make_device: MakeDevice, actual: str, listed: str
) -> None:
    """Not after the prompt timeout (60 s here), and not retried: the device is quiet at
    another platform's prompt, which the error names."""
    async with Simulator(devices=1, platforms=[actual]) as sim:
        d = sim.devices[0]
        slow = Timeouts(tcp=5.0, handshake=5.0, auth=5.0, prompt=60.0)
        with pytest.raises(PlatformMismatch) as caught:
            await make_device(d, platform=listed, timeouts=slow).open()
    message = str(caught.value)
    assert f"a prompt of {actual};" in message, message
    assert "is the device's platform right?" in message
    assert d.name in message
    assert not caught.value.transient


async def test_a_prompt_line_in_slow_output_does_not_end_the_read(
    ios_sim: Simulator, make_device: MakeDevice
) -> None:
    d = ios_sim.devices[0]
    async with make_device(d) as dev:
        banner = await dev.send_config(["banner motd ^C", "Welcome", f"{d.name}#", "^C"])
        assert banner.ok, banner.error
        full = await dev.send_command("show running-config")
    d.set_faults(line_delay_ms=5)
    async with make_device(d) as dev:
        slow = await dev.send_command("show running-config")
        assert slow.output == full.output
        assert f"\n{d.name}#\n" in slow.output


async def test_tacacs_denials_are_command_errors_not_timeouts(
    ios_sim: Simulator, make_device: MakeDevice
) -> None:
    d = ios_sim.devices[0]
    d.set_faults(deny="^conf")
    async with make_device(d) as dev:
        denied = await dev.send_command("configure terminal")
        assert not denied.ok
        assert denied.error == "Command authorization failed."
        pushed = await dev.send_config(["interface Loopback9"])
        assert not pushed.ok
        assert pushed.error is not None
        assert "Command authorization failed." in pushed.error
        assert (await dev.send_command("show clock")).ok


async def test_cr_erasing_pagers_keep_the_indentation(make_device: MakeDevice) -> None:
    async with Simulator(devices=1, platforms=["cisco_nxos"], base_port=0) as sim:
        d = sim.devices[0]
        async with make_device(d) as dev:
            reference = (await dev.send_command("show running-config")).output
        d.set_faults(cr_pager=True)
        async with make_device(d, skip_on_open=True) as dev:  # paging stays on
            paged = await dev.send_command("show running-config")

    def untimed(text: str) -> list[str]:  # "!Time: ..." moves on between the two reads
        return [line for line in text.splitlines() if not line.startswith("!Time:")]

    assert untimed(paged.output) == untimed(reference)
    assert len(untimed(reference)) > 20


async def test_asa_failover_prompts(make_device: MakeDevice) -> None:
    async with Simulator(devices=1, platforms=["cisco_asa"], base_port=0) as sim:
        d = sim.devices[0]
        d.set_faults(failover="pri/act")
        async with make_device(d) as dev:
            assert dev.hostname == d.name
            assert dev.prompt == f"{d.name}/pri/act#"
            assert (await dev.send_command("show running-config")).ok
            pushed = await dev.send_config(["interface Management1/1", " nameif mgmt"])
            assert pushed.ok, pushed.error


async def test_stop_on_error_reports_what_was_applied(
    ios_sim: Simulator, make_device: MakeDevice
) -> None:
    async with make_device(ios_sim.devices[0]) as dev:
        lines = ["interface Loopback5", " description first", " bogus keyword", " shutdown"]
        result = await dev.send_config(lines)
        assert not result.ok
        assert result.failed_line == " bogus keyword"
        assert result.applied_lines == lines[:2]
        assert result.partially_applied
        assert result.to_dict()["partially_applied"] is True


async def test_xr_commit_that_renames_is_followed_and_reported_committed(
    make_device: MakeDevice,
) -> None:
    async with Simulator(devices=1, platforms=["cisco_xr"], base_port=0) as sim:
        d = sim.devices[0]
        async with make_device(d) as dev:
            result = await dev.send_config(["hostname xr-renamed"])
            assert result.ok, result.error
            assert result.committed
            assert dev.hostname == "RP/0/RP0/CPU0:xr-renamed"  # the node prefix stays
            assert (await dev.send_command("show version")).ok
        assert d.stats.logins == 1


async def test_after_a_timeout_config_lines_are_never_sent_at_exec_level(
    ios_sim: Simulator, make_device: MakeDevice
) -> None:
    d = ios_sim.devices[0]
    async with make_device(d) as dev:
        d.set_faults(hang_on="^ description")
        first = await dev.send_config(["interface Loopback3", " description stuck"], timeout=0.3)
        assert not first.ok
        assert first.error_kind == "command_timeout"
        assert first.failed_line is None
        assert first.applied_lines == ["interface Loopback3"]
        assert first.partially_applied
        d.clear_faults()
        # The session is dirty at "config" level; the next push reopens it and re-enters config.
        second = await dev.send_config(["logging buffered 4096"])
        assert second.ok, second.error
        assert dev.level == "privileged"


@pytest.mark.parametrize(
    ("platform", "failover", "expected"),
    [
        ("cisco_nxos", None, "nf-renamed-1"),
        ("arista_eos", None, "nf-renamed-1"),
        ("cisco_xe", None, "nf-renamed-1"),
        ("cisco_asa", None, "nf-renamed-1"),
        ("cisco_asa", "pri/act", "nf-renamed-1/pri/act"),  # the failover part stays
    ],
)
async def test_a_hostname_change_is_followed_on_every_ios_like_platform(
    make_device: MakeDevice, platform: str, failover: str | None, expected: str
) -> None:
    async with Simulator(devices=1, platforms=[platform], base_port=0) as sim:
        d = sim.devices[0]
        if failover:
            d.set_faults(failover=failover)
        async with make_device(d) as dev:
            result = await dev.send_config(["hostname nf-renamed-1"])
            assert result.ok, result.error
            assert dev.hostname == "nf-renamed-1"
            assert dev.prompt == f"{expected}#"
            shown = await dev.send_command("show running-config")
            assert shown.ok, shown.error
            assert "hostname nf-renamed-1" in shown.output

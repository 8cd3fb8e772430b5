"""Show commands, error patterns and prompt matching on a simulated Cisco IOS device."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable

import pytest

from netfleet.core.errors import (
    CommandError,
    DeviceError,
    PlatformMismatch,
    UnknownPlatform,
)
from netfleet.device import Device
from netfleet.transport import Timeouts
from netfleet_sim import Simulator

MakeDevice = Callable[..., Device]


async def test_show_version_output_is_exactly_the_commands(ios: Device) -> None:
    result = await ios.send_command("show version")
    assert result.ok
    assert result.error is None
    assert result.output.startswith("Cisco IOS Software")
    assert "show version" not in result.output.splitlines()[0]  # echo removed
    assert ios.prompt not in result.output  # prompt removed
    assert result.duration_ms > 0
    assert result.started_at > 0


async def test_session_reports_phase_timings_and_level(ios: Device) -> None:
    t = ios.timings
    assert t.tcp_ms > 0
    assert t.handshake_ms > 0
    assert t.auth_ms > 0
    assert t.prompt_ms > 0
    assert t.total_ms >= t.tcp_ms + t.handshake_ms + t.auth_ms
    assert t.attempts == 1
    assert ios.level == "privileged"  # logged in at user EXEC, then enable (the default)
    assert ios.hostname == ios.name
    assert "Authorized access only" in ios.banner


async def test_rejected_command_is_a_failed_result_with_the_device_message(ios: Device) -> None:
    result = await ios.send_command("show foo")
    assert not result.ok
    assert result.error_kind == "command_error"
    assert result.error is not None
    assert "Invalid input" in result.error
    with pytest.raises(CommandError, match="Invalid input"):
        await ios.send_command("show foo", raise_on_error=True)
    # the session is still in step
    assert (await ios.send_command("show version")).output.startswith("Cisco IOS")


async def test_consecutive_commands_never_get_each_others_output(ios: Device) -> None:
    await ios.enable()
    version = await ios.send_command("show version")
    clock = await ios.send_command("show clock")
    again = await ios.send_command("show version")
    assert version.output == again.output
    assert clock.output != version.output
    assert "Cisco IOS" not in clock.output


async def test_send_commands_failure_strategies(ios: Device) -> None:
    cmds = ["show version", "show foo", "show clock", "show bar", "show version"]
    cont = await ios.send_commands(cmds)
    assert [r.ok for r in cont] == [True, False, True, False, True]

    first = await ios.send_commands(cmds, failure_strategy="abort_first")
    assert [r.ok for r in first] == [True, False, False, False, False]
    assert [r.error_kind for r in first[2:]] == ["not_run"] * 3

    after2 = await ios.send_commands(cmds, failure_strategy="abort_after_n", failure_n=2)
    assert [r.error_kind for r in after2] == [
        None,
        "command_error",
        None,
        "command_error",
        "not_run",
    ]


async def test_line_that_looks_like_the_prompt_does_not_end_the_read(ios: Device) -> None:
    # A description that is exactly the prompt of this and of another device, at line ends.
    config = await ios.send_config(
        [
            "interface Loopback7",
            f"description {ios.hostname}#",
            "interface Loopback8",
            "description OTHER-ROUTER#",
        ]
    )
    assert config.ok, config.error
    assert ios.level == "privileged"
    run = await ios.send_command("show running-config")
    assert run.output.rstrip().endswith("end")
    assert f" description {ios.hostname}#" in run.output
    assert " description OTHER-ROUTER#" in run.output
    # The command after it gets its own output.
    assert (await ios.send_command("show clock")).output != run.output


async def test_unknown_platform_lists_known_ones() -> None:
    with pytest.raises(UnknownPlatform, match="cisco_ios") as info:
        Device("127.0.0.1", platform="cisco_ios_typo", username="a", password="b", name="edge-9")
    assert str(info.value).startswith("edge-9: unknown platform 'cisco_ios_typo'")


async def test_is_alive_and_reset(ios: Device) -> None:
    assert await ios.is_alive()
    await ios.send_config(["interface Loopback9"], commit=True)
    await ios.enable()
    await ios.send_command("configure terminal")
    assert ios.level == "config"
    await ios.reset()
    assert ios.level == "privileged"
    await ios.close()
    assert ios.closed
    assert not await ios.is_alive()


async def test_paging_is_answered_when_on_open_commands_are_skipped(
    ios_sim: Simulator, make_device: MakeDevice
) -> None:
    async with make_device(ios_sim.devices[0]) as paged_off:
        await paged_off.enable()
        full = (await paged_off.send_command("show running-config")).output
    async with make_device(ios_sim.devices[0], skip_on_open=True) as dev:
        await dev.enable()
        result = await dev.send_command("show running-config")
    assert len(full.splitlines()) > 24  # long enough to be paged
    assert result.output == full
    assert "More" not in result.output


async def test_textfsm_parsing_and_missing_template(ios: Device) -> None:
    result = await ios.send_command("show version", parse="textfsm")
    assert result.ok
    assert result.parsed
    assert result.parsed[0].get("version")
    await ios.enable()
    missing = await ios.send_command("show running-config", parse="textfsm")
    assert missing.ok  # the command worked; only parsing did not
    assert missing.parsed is None
    assert missing.error_kind == "template_not_found"
    assert missing.error is not None
    assert "show running-config" in missing.error
    assert missing.output.rstrip().endswith("end")


async def test_expect_ends_the_read_at_a_question(ios: Device) -> None:
    await ios.enable()
    asked = await ios.send_command(
        "copy running-config startup-config", expect=r"Destination filename \[[\w-]+\]\?"
    )
    assert asked.ok
    done = await ios.send("", timeout=10.0)
    assert "[OK]" in done.output
    assert done.at_prompt
    assert done.question == ""
    assert ios.level == "privileged"


async def test_reply_says_whether_a_question_or_the_prompt_ended_the_read(ios: Device) -> None:
    await ios.enable()
    question = re.compile(r"Destination filename \[[\w-]+\]\?")
    asked = await ios.send("copy running-config startup-config", timeout=10.0, expect=question)
    assert not asked.at_prompt
    assert asked.question == "Destination filename [startup-config]?"
    done = await ios.send("", timeout=10.0, expect=question)
    assert done.at_prompt
    assert "[OK]" in done.output


async def test_hostname_change_is_followed(ios: Device) -> None:
    result = await ios.send_config(["hostname nf-renamed"])
    assert result.ok, result.error
    assert ios.hostname == "nf-renamed"
    assert ios.prompt == "nf-renamed#"
    assert (await ios.send_command("show clock")).ok


async def test_one_command_at_a_time_per_session(ios: Device) -> None:
    first = asyncio.ensure_future(ios.send_command("show version"))
    await asyncio.sleep(0)  # let it send
    with pytest.raises(DeviceError, match="another command is still running"):
        await ios.send_command("show clock")
    assert (await first).output.startswith("Cisco IOS Software")
    assert (await ios.send_command("show clock")).ok


async def test_slow_trickling_output_is_read_whole(ios_sim: Simulator, ios: Device) -> None:
    await ios.enable()
    fast = await ios.send_command("show running-config")
    ios_sim.devices[0].set_faults(bytes_per_second=40000)
    slow = await ios.send_command("show running-config")
    assert slow.output == fast.output


async def test_one_megabyte_running_config_is_read_whole(make_device: MakeDevice) -> None:
    async with (
        Simulator(devices=1, platforms=["cisco_ios"], base_port=0, config_size=1_000_000) as sim,
        make_device(sim.devices[0]) as dev,
    ):
        await dev.enable()
        run = await dev.send_command("show running-config")
        assert run.ok
        assert len(run.output) >= 1_000_000
        assert run.output.rstrip().endswith("end")
        assert dev.prompt not in run.output


async def test_wrong_platform_is_a_mismatch_naming_device_and_the_prompt_seen(
    ios_sim: Simulator, make_device: MakeDevice
) -> None:
    d = ios_sim.devices[0]
    quick = Timeouts(tcp=2.0, handshake=2.0, auth=2.0, prompt=0.3)  # less than the grace
    with pytest.raises(PlatformMismatch, match=rf"^{d.name}: no Juniper Junos prompt") as info:
        async with make_device(d, platform="juniper_junos", timeouts=quick):
            pass
    message = str(info.value)
    assert f"went quiet at '{d.name}>', a prompt of arista_eos, cisco_asa, " in message
    assert message.endswith("; is the device's platform right?")

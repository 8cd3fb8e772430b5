"""Every simulated platform: show commands, errors, enable, config push/read-back, save,
commit and rollback on candidate-config platforms (Junos, IOS-XR)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest

from netfleet.device import Device
from netfleet.device.modes import privileged_level
from netfleet.platforms import detect_platform
from netfleet_sim import ALL_PLATFORMS, SimDevice, Simulator
from netfleet_sim.fleet import builtin_platforms

MakeDevice = Callable[..., Device]

IOS_LIKE = (["interface Loopback42", "description nf-test-42"], "show running-config")
CONFIG: dict[str, tuple[list[str], str]] = {
    "cisco_ios": IOS_LIKE,
    "cisco_xe": IOS_LIKE,
    "cisco_nxos": IOS_LIKE,
    "arista_eos": IOS_LIKE,
    "cisco_xr": IOS_LIKE,
    "cisco_asa": (["object network nf-test-42", "description nf-test-42"], "show running-config"),
    "juniper_junos": (["set interfaces lo0 description nf-test-42"], "show configuration"),
}
BAD_CONFIG: dict[str, str] = {
    "juniper_junos": "set nf-bogus-hierarchy 42",
    "cisco_xr": "interface Loopback43 bogus-keyword",
}


def _available(platform: str) -> None:
    if platform not in builtin_platforms():
        pytest.skip(f"the simulator has no {platform} yet")


async def _start(platform: str) -> AsyncIterator[SimDevice]:
    _available(platform)
    async with Simulator(devices=1, platforms=[platform], base_port=0) as sim:
        yield sim.devices[0]


@pytest.fixture(params=ALL_PLATFORMS)
async def sim_device(request: pytest.FixtureRequest) -> AsyncIterator[SimDevice]:
    async for d in _start(request.param):
        yield d


@pytest.fixture(params=sorted(CONFIG))
async def config_device(request: pytest.FixtureRequest) -> AsyncIterator[SimDevice]:
    """A device of every platform that has a configuration mode."""
    async for d in _start(request.param):
        yield d


async def test_show_commands_errors_and_enable(
    sim_device: SimDevice, make_device: MakeDevice
) -> None:
    async with make_device(sim_device) as dev:
        spec = dev.platform
        version = await dev.send_command(spec.version_command)
        assert version.ok
        assert detect_platform(version_output=version.output) == spec.name
        assert dev.prompt not in version.output
        bad = await dev.send_command("show nf-no-such-thing 42")
        assert not bad.ok
        assert bad.error_kind == "command_error"
        if spec.name != "linux":  # the simulated Linux has no root shell (sudo -s)
            await dev.enable()
            assert dev.level == privileged_level(spec)
        again = await dev.send_command(spec.version_command)
        assert detect_platform(version_output=again.output) == spec.name
        assert len(again.output.splitlines()) == len(version.output.splitlines())


async def test_config_push_read_back_and_save(
    config_device: SimDevice, make_device: MakeDevice
) -> None:
    sim_device = config_device
    lines, show = CONFIG[sim_device.platform]
    async with make_device(sim_device) as dev:
        result = await dev.send_config(lines, save=True)
        assert result.ok, result.error
        assert result.saved
        assert dev.level == dev.platform.default_level
        assert result.committed == (dev.platform.commit is not None)
        cspec = dev.platform.commit
        if cspec is not None:
            # lines, then [commit check], commit, then the save step
            steps = [r.command for r in result.results[len(lines) : -1]]
            assert steps == [*([cspec.check] if cspec.check else []), cspec.commit]
            assert result.diff is not None
            assert "nf-test-42" in result.diff
        await dev.enable()
        running = await dev.send_command(show)
        assert "nf-test-42" in running.output
    # Saved means it survives a reboot (which discards everything unsaved).
    await sim_device.reboot()
    async with make_device(sim_device) as dev:
        await dev.enable()
        assert "nf-test-42" in (await dev.send_command(show)).output


async def test_save_config_alone_makes_changes_survive_a_reboot(
    config_device: SimDevice, make_device: MakeDevice
) -> None:
    lines, show = CONFIG[config_device.platform]
    lines = [ln.replace("42", "61") for ln in lines]
    async with make_device(config_device) as dev:
        assert (await dev.send_config(lines)).ok
        await dev.enable()
        assert "nf-test-61" in (await dev.send_command(show)).output
    await config_device.reboot()
    async with make_device(config_device) as dev:
        await dev.enable()
        if dev.platform.commit is None:  # not saved: the reboot lost it
            assert "nf-test-61" not in (await dev.send_command(show)).output
            assert (await dev.send_config(lines)).ok
        saved = await dev.save_config()
        assert saved.ok, saved.error
    await config_device.reboot()
    async with make_device(config_device) as dev:
        await dev.enable()
        assert "nf-test-61" in (await dev.send_command(show)).output


async def test_dry_run_changes_nothing(config_device: SimDevice, make_device: MakeDevice) -> None:
    sim_device = config_device
    lines, show = CONFIG[sim_device.platform]
    lines = [ln.replace("42", "77") for ln in lines]
    async with make_device(sim_device) as dev:
        await dev.enable()
        before = sim_device.stats.command_count
        result = await dev.send_config(lines, dry_run=True)
        assert result.ok, result.error
        assert result.dry_run
        assert not result.committed
        assert result.diff is not None
        assert "77" in result.diff
        if dev.platform.commit is None:
            assert sim_device.stats.command_count == before  # nothing was sent
        else:  # rolled back by a command the device knows
            assert result.results[-1].command == dev.platform.commit.rollback
            assert result.results[-1].ok, result.results[-1].error
        assert dev.level == dev.platform.default_level
        assert "nf-test-77" not in (await dev.send_command(show)).output


@pytest.mark.parametrize("platform", sorted(BAD_CONFIG))
async def test_failed_candidate_is_rolled_back(platform: str, make_device: MakeDevice) -> None:
    _available(platform)
    lines, show = CONFIG[platform]
    async with (
        Simulator(devices=1, platforms=[platform], base_port=0) as sim,
        make_device(sim.devices[0]) as dev,
    ):
        good = [ln.replace("42", "55") for ln in lines]
        result = await dev.send_config([*good, BAD_CONFIG[platform]], stop_on_error=False)
        assert not result.ok
        assert not result.committed
        assert result.error_kind == "command_error"
        assert dev.platform.commit is not None
        assert result.results[-1].command == dev.platform.commit.rollback
        assert result.results[-1].ok, result.results[-1].error  # the device knows the command
        assert dev.level == dev.platform.default_level
        assert "nf-test-55" not in (await dev.send_command(show)).output
        # Nothing of the failed push is left in the candidate: the next push is clean.
        ok = await dev.send_config(lines)
        assert ok.ok, ok.error
        assert ok.diff is not None
        assert "nf-test-42" in ok.diff
        assert "nf-test-55" not in ok.diff


async def test_linux_shell_prompt_and_errors(make_device: MakeDevice) -> None:
    _available("linux")
    async with (
        Simulator(devices=1, platforms=["linux"], base_port=0) as sim,
        make_device(sim.devices[0]) as dev,
    ):
        assert dev.level == "exec"
        assert dev.hostname == sim.devices[0].name  # the host part of admin@host:~$
        missing = await dev.send_command("nf-no-such-command")
        assert not missing.ok
        assert "command not found" in (missing.error or "")
        listing = await dev.send_command("uname -a")
        assert listing.ok
        assert listing.output.startswith("Linux ")
        assert dev.prompt not in listing.output

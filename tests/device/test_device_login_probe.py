"""The prompt learned at login is confirmed by the first command opening sends (no extra
round trip), or by a probe when opening sends none; a prompt-like banner line is never
taken for the prompt either way. Over real SSH to the simulator."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from netfleet.channel import Channel
from netfleet.device import Device
from netfleet_sim import Simulator

MakeDevice = Callable[..., Device]


@pytest.fixture
def writes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Everything the client writes to device shells, in order."""
    seen: list[str] = []
    original = Channel.write

    def write(self: Channel, data: str) -> None:
        seen.append(data)
        original(self, data)

    monkeypatch.setattr(Channel, "write", write)
    return seen


async def test_the_first_on_open_command_confirms_the_prompt_without_a_probe(
    ios_sim: Simulator, make_device: MakeDevice, writes: list[str]
) -> None:
    d = ios_sim.devices[0]
    d.set_faults(login_level="user")
    async with make_device(d) as dev:
        assert dev.hostname == d.name
        assert dev.level == "privileged"
        assert (await dev.send_command("show clock")).ok
    assert writes[0] == "enable\n"  # no bare newline (probe) before it
    assert "\n" not in writes
    assert d.stats.logins == 1


async def test_opening_that_sends_no_command_probes(
    ios_sim: Simulator, make_device: MakeDevice, writes: list[str]
) -> None:
    d = ios_sim.devices[0]
    d.set_faults(login_level="privileged")
    async with make_device(d, skip_on_open=True) as dev:
        assert dev.hostname == d.name
        assert (await dev.send_command("show clock")).ok
    assert writes[0] == "\n"


@pytest.mark.parametrize("skip_on_open", [False, True])
@pytest.mark.parametrize("login_level", ["user", "privileged"])
async def test_a_prompt_like_motd_line_is_not_the_prompt_either_way(
    ios_sim: Simulator, make_device: MakeDevice, skip_on_open: bool, login_level: str
) -> None:
    d = ios_sim.devices[0]
    d.set_faults(prompt_motd="core-sw1#", login_level=login_level)
    async with make_device(d, skip_on_open=skip_on_open) as dev:
        assert dev.hostname == d.name
        assert dev.banner.splitlines()[-1] == "core-sw1#"
        assert dev.level == "privileged"
        shown = await dev.send_command("show running-config")
        assert shown.ok, shown.error
        assert f"hostname {d.name}" in shown.output

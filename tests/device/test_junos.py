"""Junos as Juniper documents it, over real SSH to the simulator and its variants.

netfleet edits a private candidate (``configure exclusive`` where private is refused),
diffs from ``top``, discards only its own changes, follows a hostname change at
``commit`` and strips ``{master:0}``-style lines.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest

from netfleet.core.errors import PrivilegeError
from netfleet.device import Device, modes
from netfleet.platforms import detect_platform
from netfleet_sim import SimDevice, Simulator
from netfleet_sim.platforms.junos import JunosPlatform
from netfleet_sim.platforms.junos_state import JunosState
from netfleet_sim.platforms.junos_variant import VARIANTS

MakeDevice = Callable[..., Device]


async def _sim(variant: str = "ex4300") -> AsyncIterator[Simulator]:
    registry = {"juniper_junos": JunosPlatform(VARIANTS[variant])}
    async with Simulator(devices=1, platforms=["juniper_junos"], registry=registry) as sim:
        yield sim


@pytest.fixture
async def junos() -> AsyncIterator[SimDevice]:
    async for sim in _sim():
        yield sim.devices[0]


def _state(d: SimDevice) -> JunosState:
    assert isinstance(d.state, JunosState)
    return d.state


async def test_push_uses_a_private_candidate_and_leaves_others_edits_alone(
    junos: SimDevice, make_device: MakeDevice
) -> None:
    async with make_device(junos) as other, make_device(junos) as dev:
        assert (await other.send_command("configure private")).ok
        assert (await other.send_command("set system ntp server 10.9.9.9")).ok
        result = await dev.send_config(["set interfaces ge-0/0/5 description nf-private"])
        assert result.ok, result.error
        assert result.committed
        assert "configure private" in junos.stats.commands
        assert "configure" not in junos.stats.commands
        committed = _state(junos).committed
        assert "interfaces ge-0/0/5 description nf-private" in committed
        assert not any("10.9.9.9" in s for s in committed)  # the other user's edit: not ours
        compare = await other.send_command("show | compare")
        assert "+  server 10.9.9.9;" in compare.output  # ... and still theirs, uncommitted
        assert dev.level == "exec"


async def test_dry_run_discards_only_its_own_changes(
    junos: SimDevice, make_device: MakeDevice
) -> None:
    async with make_device(junos) as other, make_device(junos) as dev:
        await other.send_command("configure private")
        await other.send_command("set snmp location lab-3")
        before = list(_state(junos).committed)
        result = await dev.send_config(["set snmp contact noc"], dry_run=True)
        assert result.ok, result.error
        assert result.diff is not None
        assert "+  contact noc;" in result.diff
        assert "lab-3" not in result.diff
        assert _state(junos).committed == before
        assert "rollback 0" in junos.stats.commands
        assert "+  location lab-3;" in (await other.send_command("show | compare")).output


async def test_private_refused_while_the_shared_candidate_is_modified_names_what_was_seen(
    junos: SimDevice, make_device: MakeDevice
) -> None:
    async with make_device(junos) as other, make_device(junos) as dev:
        await other.send_command("configure")
        await other.send_command("set snmp location shared-edit")
        before = list(_state(junos).committed)
        result = await dev.send_config(["set snmp contact noc"])
        assert not result.ok
        assert result.error is not None
        assert "'configure private' refused: error: shared configuration database modified" in (
            result.error
        )
        assert "'configure exclusive' refused: error: configuration database modified" in (
            result.error
        )
        assert _state(junos).committed == before  # nothing committed, theirs kept
        assert "snmp location shared-edit" in _state(junos).db.shared
        with pytest.raises(PrivilegeError, match=rf"^{junos.name}: 'configure private' refused"):
            await modes.goto(dev, "config")
        assert (await dev.send_command("show version")).ok  # the session is still usable


async def test_exclusive_where_private_is_refused(make_device: MakeDevice) -> None:
    async for sim in _sim("no-private"):
        d = sim.devices[0]
        async with make_device(d) as dev:
            result = await dev.send_config(["set snmp contact noc"])
            assert result.ok, result.error
            assert result.committed
            assert "configure exclusive" in d.stats.commands
            assert "snmp contact noc" in _state(d).committed
            assert _state(d).db.lock is None  # released on leaving


async def test_diff_is_taken_from_top(junos: SimDevice, make_device: MakeDevice) -> None:
    async with make_device(junos) as dev:
        lines = [
            "set system ntp server 10.7.7.7",
            "edit interfaces ge-0/0/6",
            "set description nf-top",
        ]
        result = await dev.send_config(lines, dry_run=True)
        assert result.ok, result.error
        assert result.diff is not None
        assert "+  server 10.7.7.7;" in result.diff  # outside [edit interfaces ge-0/0/6]
        assert "+  description nf-top;" in result.diff


async def test_leaving_with_uncommitted_changes_discards_them(
    junos: SimDevice, make_device: MakeDevice
) -> None:
    async with make_device(junos) as dev:
        result = await dev.send_config(["set snmp contact left-behind"], commit=False)
        assert result.ok, result.error
        assert dev.level == "config"
        await dev.reset()
        assert dev.level == "exec"
        state = _state(junos)
        assert not any("left-behind" in s for s in state.committed + state.db.shared)
        assert state.db.editors == {}


async def test_commit_that_renames_the_device_is_followed(
    junos: SimDevice, make_device: MakeDevice
) -> None:
    async with make_device(junos) as dev:
        result = await dev.send_config(["set system host-name edge-renamed"])
        assert result.ok, result.error
        assert result.committed
        assert dev.prompt == "admin@edge-renamed>"
        assert _state(junos).hostname == "edge-renamed"
        shown = await dev.send_command("show version")
        assert shown.ok
        assert "Hostname: edge-renamed" in shown.output


async def test_unknown_statement_fails_the_push_and_nothing_is_committed(
    junos: SimDevice, make_device: MakeDevice
) -> None:
    before = list(_state(junos).committed)
    async with make_device(junos) as dev:
        lines = ["set snmp contact noc", "set system frobnicate yes"]
        result = await dev.send_config(lines)
        assert not result.ok
        assert not result.committed
        assert result.error is not None
        assert "syntax error." in result.error
        assert result.failed_line == "set system frobnicate yes"
        assert result.applied_lines == []  # the candidate was discarded
        assert not result.partially_applied
        assert dev.level == "exec"
    state = _state(junos)
    assert state.committed == before
    assert not any("noc" in s for s in state.db.shared)


async def test_ambiguous_word_is_a_command_error(junos: SimDevice, make_device: MakeDevice) -> None:
    async with make_device(junos) as dev:
        result = await dev.send_command("s")
        assert not result.ok
        assert result.error is not None
        assert result.error.startswith("'s' is ambiguous.")


@pytest.mark.parametrize("variant", ["ex-vc", "srx-cluster", "lsys"])
async def test_variants_give_the_same_text_as_a_plain_box(
    variant: str, make_device: MakeDevice
) -> None:
    outputs: dict[str, tuple[str, str]] = {}
    for name in ("ex4300", variant):
        async for sim in _sim(name):
            d = sim.devices[0]
            async with make_device(d) as dev:
                shown = await dev.send_command("show configuration snmp")
                assert shown.ok, shown.error
                result = await dev.send_config(["set snmp contact nf-variant"])
                assert result.ok, result.error
                assert result.diff is not None
                outputs[name] = (shown.output, result.diff)
                if name == "lsys":
                    assert dev.prompt == f"admin@{d.name}:pe1>"
    assert outputs[variant] == outputs["ex4300"]
    assert "{" not in outputs[variant][1].splitlines()[-1]


async def test_legacy_ex_version_string_is_detected(make_device: MakeDevice) -> None:
    async for sim in _sim("ex-legacy"):
        d = sim.devices[0]
        async with make_device(d) as dev:
            shown = await dev.send_command("show version")
            assert "JUNOS EX  Software Suite [12.3R12.4]" in shown.output
            assert "{master:0}" not in shown.output
            assert "Junos:" not in shown.output
            assert detect_platform(shown.output) == "juniper_junos"


async def test_xr_commit_that_renames_the_device_is_followed(make_device: MakeDevice) -> None:
    async with Simulator(devices=1, platforms=["cisco_xr"]) as sim:
        d = sim.devices[0]
        async with make_device(d) as dev:
            result = await dev.send_config(["hostname xr-renamed"])
            assert result.ok, result.error
            assert result.committed
            assert dev.prompt.endswith(":xr-renamed#")
            assert (await dev.send_command("show version")).ok

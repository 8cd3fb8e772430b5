"""Behaviour every platform shares: registry, prompts, persistence, reboot, closing, errors."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netfleet_sim.platforms import PLATFORMS, get_platform
from tests.support.sim_session import SECRET, Session

ALL = sorted(PLATFORMS)
PAGING_OFF = {
    "cisco_ios": "terminal length 0",
    "cisco_xe": "terminal length 0",
    "cisco_nxos": "terminal length 0",
    "cisco_xr": "terminal length 0",
    "arista_eos": "terminal length 0",
    "cisco_asa": "terminal pager 0",
    "juniper_junos": "set cli screen-length 0",
}
VERSION = {
    "linux": "uname -a",
    "juniper_junos": "show chassis hardware",
}


def test_registry() -> None:
    assert set(PLATFORMS) == {
        "cisco_ios",
        "cisco_xe",
        "cisco_nxos",
        "cisco_xr",
        "cisco_asa",
        "arista_eos",
        "juniper_junos",
        "linux",
    }
    assert all(p.name == name for name, p in PLATFORMS.items())
    with pytest.raises(KeyError, match="unknown platform 'nope'"):
        get_platform("nope")


@pytest.mark.parametrize("platform", ALL)
def test_prompt_names_the_device_and_state_is_shared(platform: str) -> None:
    first = Session(platform)
    second = Session(platform, state=first.state)
    assert "R1" in first.prompt()
    assert first.state.hostname == "R1"
    first.state.hostname = "RENAMED"
    assert "RENAMED" in second.prompt()


@pytest.mark.parametrize("platform", ALL)
def test_json_round_trip_is_exact(platform: str) -> None:
    s = Session(platform)
    data = json.loads(json.dumps(s.state.to_json()))
    assert data["platform"] == platform
    restored = s.platform.load_state(data)
    assert restored.to_json() == data


@pytest.mark.parametrize("platform", ALL)
def test_devices_differ_by_index(platform: str) -> None:
    p = get_platform(platform)
    a = Session(platform, state=p.new_state("R1", index=1))
    b = Session(platform, state=p.new_state("R1", index=2))
    command = VERSION.get(platform, "show version")
    if platform == "linux":
        command = "ip link"
    for s in (a, b):
        if s.prompt().endswith(">") and platform != "juniper_junos":
            s.lines("enable", SECRET)
    assert a.run(command) != b.run(command)


@pytest.mark.parametrize("platform", ALL)
def test_paging_toggle(platform: str) -> None:
    s = Session(platform)
    if platform == "linux":
        assert s.engine.paging() is None
        return
    assert s.engine.paging() is not None
    s.run(PAGING_OFF[platform])
    assert s.engine.paging() is None


@pytest.mark.parametrize("platform", ALL)
def test_unknown_command_is_reported_and_exit_closes(platform: str) -> None:
    s = Session(platform)
    out = s.run("frobnicate now")
    assert out
    assert "nvalid" in out or "unknown" in out or "not found" in out
    assert not s.closed
    s.run("exit")
    assert s.closed


@pytest.mark.parametrize("platform", ALL)
def test_reboot_keeps_identity(platform: str) -> None:
    s = Session(platform)
    s.state.reboot()
    assert s.state.hostname == "R1"
    assert s.platform.load_state(s.state.to_json()).hostname == "R1"


@pytest.mark.parametrize("platform", [p for p in ALL if p != "linux"])
def test_config_size_pads_running_config(platform: str) -> None:
    s = Session(platform, config_size=150_000)
    if s.prompt().endswith(("> ", ">")) and platform != "juniper_junos":
        s.lines("enable", SECRET)
    command = "show configuration" if platform == "juniper_junos" else "show running-config"
    text = s.run(command)
    assert 150_000 <= len(text) < 160_000
    assert "NF-PAD-00001" in text
    plain = Session(platform)
    if plain.prompt().endswith(("> ", ">")) and platform != "juniper_junos":
        plain.lines("enable", SECRET)
    assert "NF-PAD" not in plain.run(command)


WORDS = st.sampled_from(
    ["show", "sh", "run", "conf", "t", "int", "gi1/0/1", "no", "desc", "x", "|", "i", "end",
     "exit", "set", "interfaces", "vlan", "10", "?", "commit", "ip", "address", "hostname",
     "configure", "terminal", "do", "delete", "system", "edit", "top", "enable", SECRET, '"',
     "[", "(", "match", "grep", "include", "section", "begin", "head", "-n", "count", "display",
     "compare"]
)  # fmt: skip


@pytest.mark.parametrize("platform", ALL)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lines=st.lists(st.lists(WORDS, max_size=5).map(" ".join), max_size=12))
def test_random_input_never_crashes(platform: str, lines: list[str]) -> None:
    s = Session(platform)
    for line in lines:
        if s.closed:
            break
        reply = s.engine.execute(line)
        s.closed = reply.close
        assert reply.output == "" or reply.output.endswith("\n")
        assert isinstance(s.engine.prompt(), str)

"""Predicted diffs of IOS-like changes against a running configuration."""

from __future__ import annotations

import pytest
from configs_samples import sample

from netfleet.configs.hierarchy import render
from netfleet.configs.predict import NOTE, PredictedLine, predict
from netfleet.core.errors import ValidationError

RUNNING = sample("ios_a")


def items(running: str, change: str, platform: str = "cisco_ios") -> list[tuple[object, ...]]:
    return [(i.parents, i.line, i.status, i.old) for i in predict(running, change, platform).items]


def test_typed_sub_modes_without_indentation() -> None:
    change = "interface GigabitEthernet0/1\ndescription uplink\nno shutdown\nhostname core-r2\n"
    assert items(RUNNING, change) == [
        ((), "interface GigabitEthernet0/1", "present", ()),
        (
            ("interface GigabitEthernet0/1",),
            "description uplink",
            "replaced",
            ("description access",),
        ),
        (("interface GigabitEthernet0/1",), "no shutdown", "removed", ("shutdown",)),
        ((), "hostname core-r2", "replaced", ("hostname core-r1",)),
    ]


def test_indentation_decides_when_given() -> None:
    change = "interface GigabitEthernet0/0\n description x\nlogging event link-status\n"
    got = items(RUNNING, change)
    assert got[1][0] == ("interface GigabitEthernet0/0",)
    assert got[2] == ((), "logging event link-status", "new", ())


def test_without_indentation_a_line_stays_in_the_sub_mode_unless_global() -> None:
    change = "interface Loopback9\nip address 10.9.9.9 255.255.255.255\nntp server 192.0.2.9\n"
    assert items(RUNNING, change) == [
        ((), "interface Loopback9", "new", ()),
        (("interface Loopback9",), "ip address 10.9.9.9 255.255.255.255", "new", ()),
        ((), "ntp server 192.0.2.9", "new", ()),
    ]


def test_exit_and_end_leave_sub_modes() -> None:
    change = "configure terminal\ninterface Loopback9\nexit\ndescription top\nend\n"
    got = items(RUNNING, change)
    assert got[1] == ((), "description top", "new", ())
    got = items(RUNNING, "router ospf 1\nend\nrouter-id 1.1.1.1\n")
    assert got[1][0] == ()


def test_nested_modes() -> None:
    running = (
        "router bgp 65000\n bgp router-id 10.0.0.1\n address-family ipv4\n"
        "  neighbor 10.0.0.2 activate\n exit-address-family\n"
    )
    change = (
        "router bgp 65000\naddress-family ipv4\nneighbor 10.0.0.3 activate\n"
        "address-family ipv6\nneighbor 2001:db8::1 activate\n"
    )
    got = items(running, change)
    assert got[2] == (
        ("router bgp 65000", "address-family ipv4"),
        "neighbor 10.0.0.3 activate",
        "new",
        (),
    )
    assert got[3] == (("router bgp 65000",), "address-family ipv6", "new", ())
    assert got[4][0] == ("router bgp 65000", "address-family ipv6")


def test_present_absent_and_secondary_addresses() -> None:
    running = "interface Vlan10\n ip address 10.0.0.1 255.255.255.0\n no ip redirects\n"
    change = (
        "interface Vlan10\n ip address 10.0.0.1 255.255.255.0\n"
        " ip address 10.0.1.1 255.255.255.0 secondary\n no ip redirects\n no ip proxy-arp\n"
    )
    statuses = [i[2] for i in items(running, change)]
    assert statuses == ["present", "present", "new", "present", "absent"]


def test_single_valued_settings_replace_and_multi_valued_add() -> None:
    change = "ntp server 192.0.2.124\nenable secret 9 xyz\n"
    got = items(RUNNING, change)
    assert got[0] == ((), "ntp server 192.0.2.124", "new", ())
    assert got[1] == ((), "enable secret 9 xyz", "replaced", ("enable secret 5 <removed>",))


def test_a_line_replaces_its_negation_and_no_removes_whole_blocks() -> None:
    got = items(RUNNING, "interface GigabitEthernet0/1\n ip address 10.1.1.1 255.255.255.0\n")
    assert got[1][2:] == ("replaced", ("no ip address",))
    got = items(RUNNING, "no line vty 0 4\nno interface GigabitEthernet0/1\n")
    assert got[0] == (
        (),
        "no line vty 0 4",
        "removed",
        ("line vty 0 4", " login local", " transport input ssh"),
    )
    assert got[1][3][0] == "interface GigabitEthernet0/1"


def test_rendered_prediction_says_it_is_one() -> None:
    change = "interface GigabitEthernet0/1\n description uplink\nntp server 192.0.2.123\n"
    result = predict(RUNNING, change, "cisco_ios")
    assert result.text.startswith(NOTE + "\n! 1 replaced, 2 already present\n")
    assert result.text.endswith(
        "  interface GigabitEthernet0/1\n"
        "-  description access\n"
        "+  description uplink\n"
        "  ntp server 192.0.2.123  ! already present\n"
    )
    assert (result.added, result.removed, result.changed) == (1, 1, True)
    assert result.count("present") == 2
    assert isinstance(result.items[0], PredictedLine)


def test_the_predicted_config_holds_the_change() -> None:
    change = "interface Loopback9\n ip address 10.9.9.9 255.255.255.255\nno line vty 0 4\n"
    result = predict(RUNNING, change, "cisco_ios")
    lines = render(result.config, "indent")
    assert lines[-2:] == ["interface Loopback9", " ip address 10.9.9.9 255.255.255.255"]
    assert "line vty 0 4" not in lines


def test_no_change_predicts_no_diff() -> None:
    result = predict(RUNNING, "hostname core-r1\n! a comment\n\n", "cisco_ios")
    assert not result.changed
    assert "1 already present" in result.text


@pytest.mark.parametrize("platform", ["cisco_nxos", "arista_eos"])
def test_other_ios_like_platforms_use_their_indentation(platform: str) -> None:
    running = sample("nxos_a" if platform == "cisco_nxos" else "eos_a")
    iface = "interface Ethernet1/1" if platform == "cisco_nxos" else "interface Ethernet1"
    result = predict(running, f"{iface}\ndescription new\n", platform)
    pad = "  " if platform == "cisco_nxos" else "   "
    assert f"+ {pad}description new\n" in result.text
    assert result.items[1].status == "replaced"


@pytest.mark.parametrize("platform", ["juniper_junos", "cisco_xr", "linux", "nope"])
def test_platforms_without_prediction_are_refused(platform: str) -> None:
    with pytest.raises(ValidationError) as info:
        predict("", "hostname x", platform)
    assert platform in str(info.value)


def test_banners_survive_and_can_be_replaced() -> None:
    running = "hostname r1\nbanner motd ^C\nHello\n  world\n^C\nline con 0\n exec-timeout 5 0\n"
    result = predict(running, "banner motd ^CBye^C\nline con 0\n exec-timeout 10 0\n", "cisco_ios")
    assert [i.status for i in result.items] == ["replaced", "present", "replaced"]
    assert result.items[0].old == ("banner motd ^C", " Hello", "   world", " ^C")
    assert render(result.config, "indent")[:3] == [
        "hostname r1",
        "banner motd ^CBye^C",
        "line con 0",
    ]

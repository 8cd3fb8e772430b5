"""Cisco IOS and IOS-XE engines: modes, errors, configuration, saving, show output parsing."""

from __future__ import annotations

import json

import pytest

from tests.support.sim_session import SECRET, Session, parse

IOS_LIKE = ["cisco_ios", "cisco_xe"]


def priv(platform: str = "cisco_ios", **kw: object) -> Session:
    s = Session(platform, **kw)  # type: ignore[arg-type]
    s.run("enable")
    s.run(SECRET)
    assert s.prompt() == "R1#"
    return s


@pytest.mark.parametrize("platform", IOS_LIKE)
def test_login_banner_and_user_exec_prompt(platform: str) -> None:
    s = Session(platform)
    assert "Authorized access only" in s.engine.motd()
    assert s.prompt() == "R1>"
    assert s.engine.paging() is not None


def test_enable_asks_for_secret_without_echo_and_rejects_bad_ones() -> None:
    s = Session("cisco_ios")
    assert s.run("enable") == ""
    assert s.prompt() == "Password: "
    assert s.engine.echo() is False
    assert s.run("wrong") == ""
    assert s.prompt() == "Password: "
    s.run("wrong")
    assert s.run("wrong") == "% Bad secrets\n\n".rstrip("\n") + "\n"
    assert s.prompt() == "R1>"
    assert s.engine.echo() is True
    s.run("en")
    s.run(SECRET)
    assert s.prompt() == "R1#"
    s.run("disable")
    assert s.prompt() == "R1>"


def test_user_exec_refuses_privileged_commands() -> None:
    s = Session("cisco_ios")
    out = s.run("show running-config")
    assert out == " " * (len("R1>") + 5) + "^\n% Invalid input detected at '^' marker.\n\n"
    assert "Cisco IOS Software" in s.run("sh ver")


def test_invalid_incomplete_and_ambiguous_messages() -> None:
    s = priv()
    assert s.run("show foo") == " " * (3 + 5) + "^\n% Invalid input detected at '^' marker.\n\n"
    assert s.run("show") == "% Incomplete command.\n\n"
    assert s.run("s") == '% Ambiguous command:  "s"\n\n'
    assert s.run("sh ip int brie").startswith("Interface")
    s.run("conf t")
    assert s.run("hostname") == "% Incomplete command.\n\n"
    assert s.run("interface Gi1/0/99").endswith("% Invalid input detected at '^' marker.\n\n")
    assert s.run("frobnicate 1").startswith(" " * len("R1(config)#") + "^\n")


def test_paging_and_terminal_width() -> None:
    s = priv()
    pager = s.engine.paging()
    assert pager is not None
    assert pager.prompt == " --More-- "
    assert s.run("terminal width 511") == ""
    assert s.run("terminal width 0") == ""
    assert s.run("terminal length 0") == ""
    assert s.engine.paging() is None
    s.run("terminal length 40")
    pager = s.engine.paging()
    assert pager is not None
    assert pager.lines == 40


def test_configuration_changes_show_up_everywhere() -> None:
    s = priv()
    out = s.lines(
        "conf t",
        "hostname CORE-7",
        "int gi1/0/5",
        "desc to-firewall",
        "no switchport",
        "ip add 192.0.2.1 255.255.255.0",
        "no shut",
        "interface GigabitEthernet1/0/6",
        "shutdown",
        "exit",
        "vlan 30",
        "name SERVERS",
        "exit",
        "ntp server 192.0.2.123",
        "logging host 192.0.2.50",
        "username ops privilege 15 secret 0 hunter2",
        "snmp-server community s3cret RO",
        "banner motd #Maintenance window tonight#",
        "ip route 0.0.0.0 0.0.0.0 192.0.2.254",
        "end",
    )
    assert out[0].startswith("Enter configuration commands")
    assert all(o == "" for o in out[1:]), out
    assert s.prompt() == "CORE-7#"
    run = s.run("show running-config")
    for line in (
        "hostname CORE-7",
        "interface GigabitEthernet1/0/5\n description to-firewall\n no switchport\n"
        " ip address 192.0.2.1 255.255.255.0\n!",
        "interface GigabitEthernet1/0/6\n shutdown\n!",
        "vlan 30\n name SERVERS",
        "ntp server 192.0.2.123",
        "logging host 192.0.2.50",
        "username ops privilege 15 secret 0 hunter2",
        "snmp-server community s3cret RO",
        "banner motd ^C\nMaintenance window tonight\n^C",
        "ip route 0.0.0.0 0.0.0.0 192.0.2.254",
    ):
        assert line in run
    assert "Maintenance window tonight" in s.engine.motd()
    brief = parse("cisco_ios", "show ip interface brief", s.run("show ip interface brief"))
    rows = {r["interface"]: r for r in brief}
    assert rows["GigabitEthernet1/0/5"]["ip_address"] == "192.0.2.1"
    assert rows["GigabitEthernet1/0/6"]["status"] == "administratively down"
    vlans = parse("cisco_ios", "show vlan", s.run("show vlan"))
    assert {"vlan_id": "30", "vlan_name": "SERVERS"}.items() <= next(
        v for v in vlans if v["vlan_id"] == "30"
    ).items()
    descr = parse("cisco_ios", "show interfaces description", s.run("sh int desc"))
    assert {"port": "Gi1/0/5", "status": "up", "protocol": "up", "description": "to-firewall"} in [
        {k: r[k] for k in ("port", "status", "protocol", "description")} for r in descr
    ]


@pytest.mark.parametrize("platform", ["cisco_ios", "cisco_xe"])
def test_router_modes_check_their_statements(platform: str) -> None:
    s = Session(platform)
    s.lines("enable", SECRET, "configure terminal", "router ospf 1")
    pad = len("R1(config-router)#")
    typo = s.run("netwrok 10.0.0.0 0.255.255.255 area 0")
    assert typo == " " * pad + "^\n% Invalid input detected at '^' marker.\n\n"
    assert s.run("network 10.0.0.0") == "% Incomplete command.\n\n"
    s.lines("network 10.0.0.0 0.255.255.255 area 0", "passive-interface default")
    s.lines("router bgp 65010", "neighbor 192.0.2.2 remote-as 65020", "address-family ipv4")
    assert s.run("neighbour 192.0.2.3 remote-as 1").endswith("marker.\n\n")
    s.lines("neighbor 192.0.2.2 activate", "exit-address-family", "router rip")
    assert s.run("version 2") == ""  # a mode without a vocabulary takes any line
    s.run("end")
    run = s.run("show running-config")
    ospf = "router ospf 1\n network 10.0.0.0 0.255.255.255 area 0\n passive-interface default\n"
    assert ospf in run
    assert " neighbor 192.0.2.2 remote-as 65020\n" in run
    assert "netwrok" not in run
    assert "neighbour" not in run


def test_no_commands_remove_lines() -> None:
    s = priv()
    s.lines("conf t", "no ntp server 10.255.0.1", "int gi1/0/1", "no switchport access vlan", "end")
    run = s.run("sh run")
    assert "ntp server" not in run
    assert "interface GigabitEthernet1/0/1\n switchport mode access\n!" in run


def test_multi_line_banner() -> None:
    s = priv()
    s.lines("conf t")
    assert s.run("banner motd ^") == "Enter TEXT message.  End with the character '^'.\n"
    assert s.prompt() == ""
    s.lines("Line one", "Line two^", "end")
    assert "banner motd ^C\nLine one\nLine two\n^C" in s.run("show run")


def test_write_copy_startup_and_reboot() -> None:
    s = priv()
    s.lines("conf t", "hostname SAVED", "end")
    assert "hostname SAVED" not in s.run("show startup-config")
    assert s.run("copy running-config startup-config") == ""
    assert s.prompt() == "Destination filename [startup-config]? "
    assert s.run("") == "Building configuration...\n[OK]\n"
    assert "hostname SAVED" in s.run("show startup-config")
    s.lines("conf t", "hostname UNSAVED", "end")
    assert s.run("wr") == "Building configuration...\n[OK]\n"
    s.lines("conf t", "hostname LOST", "end")
    s.state.reboot()
    assert s.state.hostname == "UNSAVED"


def test_reload_offers_to_save_then_reboots() -> None:
    s = priv()
    s.lines("conf t", "hostname KEPT", "end")
    assert s.run("reload") == ""
    assert s.prompt() == "System configuration has been modified. Save? [yes/no]: "
    assert s.run("yes") == "Building configuration...\n[OK]\n"
    assert s.prompt() == "Proceed with reload? [confirm]"
    s.run("")
    assert s.closed
    assert Session("cisco_ios", state=s.state).prompt() == "KEPT>"
    again = Session("cisco_ios", state=s.state)
    again.lines("enable", SECRET, "conf t", "hostname GONE", "end", "reload", "no", "")
    assert again.closed
    assert s.state.hostname == "KEPT"


def test_state_round_trips_through_json() -> None:
    s = priv()
    s.lines("conf t", "hostname RT", "vlan 99", "name NINES", "end", "wr")
    s.lines("conf t", "int lo7", "ip address 198.51.100.7 255.255.255.255", "end")
    data = json.loads(json.dumps(s.state.to_json()))
    restored = s.platform.load_state(data)
    again = Session("cisco_ios", state=restored)
    assert restored.hostname == "RT"
    again.lines("enable", SECRET)
    assert again.run("show run").split("\n", 3)[3] == s.run("show run").split("\n", 3)[3]
    restored.reboot()
    assert "Loopback7" not in again.run("show run")
    assert "NINES" in again.run("show vlan brief")


def test_exit_closes_and_exit_in_config_does_not() -> None:
    s = priv()
    s.lines("conf t", "int lo1")
    s.run("exit")
    assert s.prompt() == "R1(config)#"
    s.run("exit")
    assert s.prompt() == "R1#"
    s.run("logout")
    assert s.closed


def test_filters_and_do() -> None:
    s = priv()
    assert s.run("show run | include ^hostname") == "hostname R1\n"
    s.run("conf t")
    assert s.run("do show run | i ^hostname") == "hostname R1\n"
    assert s.prompt() == "R1(config)#"


@pytest.mark.parametrize("size", [200_000, 1_000_000])
def test_running_config_padding(size: int) -> None:
    s = priv(config_size=size)
    text = s.run("show running-config")
    assert size <= len(text) < size + 2_000
    assert text.rstrip().endswith("end")
    assert "ip access-list extended NF-PAD-00001" in text


@pytest.mark.parametrize("platform", IOS_LIKE)
def test_show_version_inventory_clock_parse(platform: str) -> None:
    s = priv(platform)
    (ver,) = parse("cisco_ios", "show version", s.run("show version"))
    assert ver["hostname"] == "R1"
    version, prefix, model = {
        "cisco_ios": ("15.2(7)E4", "FOC", "WS-C3560CX-8PC-S"),
        "cisco_xe": ("17.9.4a", "FCW", "C9300-24T"),
    }[platform]
    assert ver["version"] == version
    assert len(ver["serial"]) == 1
    assert ver["serial"][0].startswith(prefix)
    assert ver["hardware"] == [model]
    other = Session(platform, state=s.platform.new_state("R2", index=8))
    other_ver = parse("cisco_ios", "show version", other.run("show version"))[0]
    assert other_ver["serial"] != ver["serial"]
    assert other_ver["mac_address"] != ver["mac_address"]
    inv = parse("cisco_ios", "show inventory", s.run("show inventory"))
    assert inv[0]["sn"] == ver["serial"][0]
    (clock,) = parse("cisco_ios", "show clock", s.run("show clock"))
    assert clock["timezone"] == "UTC"


@pytest.mark.parametrize("platform", IOS_LIKE)
def test_show_interfaces_parse(platform: str) -> None:
    s = priv(platform)
    s.lines("conf t", "interface Loopback0", "description router-id")
    s.lines("ip address 203.0.113.9 255.255.255.255", "end")
    rows = parse("cisco_ios", "show interfaces", s.run("show interfaces"))
    by_name = {r["interface"]: r for r in rows}
    assert by_name["Loopback0"]["ip_address"] == "203.0.113.9"
    assert by_name["Loopback0"]["prefix_length"] == "32"
    assert by_name["Loopback0"]["description"] == "router-id"
    assert by_name["GigabitEthernet1/0/1"]["link_status"] == "up"
    status = parse("cisco_ios", "show interfaces status", s.run("show interfaces status"))
    assert {r["port"] for r in status} >= {"Gi1/0/1", "Gi1/0/2"}
    assert next(r for r in status if r["port"] == "Gi1/0/2")["vlan_id"] == "10"
    one = parse("cisco_ios", "show interfaces", s.run("show interfaces lo0"))
    assert [r["interface"] for r in one] == ["Loopback0"]


def test_devices_never_share_edits() -> None:
    a, b = priv(), priv()
    a.lines("conf t", "interface Gi1/0/5", "description only-on-a", "vlan 10", "name CHANGED")
    a.run("hostname A")
    assert "only-on-a" not in b.run("show running-config")
    assert "CHANGED" not in b.run("show vlan brief")
    b.lines("conf t", "interface Gi1/0/5", "do write memory", "description after-save", "end")
    assert "after-save" not in b.run("show startup-config")
    assert "after-save" in b.run("show running-config")
    fresh = Session("cisco_ios")
    fresh.lines("enable", SECRET)
    assert "only-on-a" not in fresh.run("show running-config")
    assert "after-save" not in fresh.run("show running-config")

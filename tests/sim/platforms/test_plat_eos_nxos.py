"""Arista EOS and Cisco NX-OS engines: prompts, errors, configuration and ntc-templates parsing."""

from __future__ import annotations

import json

from tests.support.sim_session import Session, enabled, parse, parse_by


def eos() -> Session:
    return enabled("arista_eos")


def test_eos_modes_and_errors() -> None:
    s = Session("arista_eos")
    assert "Authorized access only" in s.engine.motd()
    assert s.run("show running-config") == "% Invalid input\n"
    s.run("enable")
    assert s.run("nope") == "% Access denied\n"
    assert s.prompt() == "R1>"
    s = eos()
    assert s.run("show bogus") == "% Invalid input\n"
    assert s.run("show") == "% Incomplete command\n"
    assert s.run("s") == "% Ambiguous command\n"
    assert s.run("configure terminal") == ""
    assert s.prompt() == "R1(config)#"
    s.run("interface et5")
    assert s.prompt() == "R1(config-if-Et5)#"
    s.run("vlan 40")
    assert s.prompt() == "R1(config-vlan-40)#"
    assert "hostname R1" in s.run("show running-config")
    s.run("end")
    assert s.run("terminal length 0") == "Pagination disabled.\n"
    assert s.engine.paging() is None
    assert s.run("terminal width 511") == "Width set to 511 columns.\n"
    s.run("exit")
    assert s.closed


def test_eos_configuration_and_parsing() -> None:
    s = eos()
    s.lines("configure", "hostname LEAF-3", "interface Ethernet5", "description to-spine1")
    s.lines("no switchport", "ip address 192.0.2.5/31", "interface Loopback0")
    s.lines("ip address 198.51.100.3/32", "vlan 40", "name STORAGE", "interface Ethernet6")
    s.lines("switchport access vlan 40", "description nas", "interface Ethernet7", "shutdown")
    s.lines("ntp server 192.0.2.123", "banner motd", "Welcome", "EOF", "end")
    run = s.run("show running-config")
    assert "interface Ethernet5\n   description to-spine1\n   no switchport\n" in run
    assert "vlan 40\n   name STORAGE" in run
    assert "hostname LEAF-3" in run
    assert s.run("show running-config interfaces et6") == (
        "interface Ethernet6\n   switchport access vlan 40\n   description nas\n"
    )
    assert "Welcome" in s.engine.motd()
    (ver,) = parse("arista_eos", "show version", s.run("show version"))
    assert ver["model"] == "DCS-7050SX3-48YC8"
    assert ver["image"] == "4.30.2F"
    assert ver["serial_number"].startswith("JPE")
    brief = parse_by(
        "arista_eos", "show ip interface brief", s.run("sh ip int br"), key="interface"
    )
    assert brief["Ethernet5"]["ip_address"] == "192.0.2.5/31"
    assert brief["Loopback0"]["ip_address"] == "198.51.100.3/32"
    assert brief["Management1"]["status"] == "up"
    status = parse_by("arista_eos", "show interfaces status", s.run("sh int status"), key="port")
    assert status["Et6"]["vlan_id"] == "40"
    assert status["Et6"]["name"] == "nas"
    assert status["Et5"]["vlan_id"] == "routed"
    assert status["Et7"]["status"] == "disabled"
    vlans = parse_by("arista_eos", "show vlan", s.run("show vlan"), key="vlan_id")
    assert vlans["40"]["vlan_name"] == "STORAGE"
    assert vlans["40"]["interfaces"] == ["Et6"]
    inv = parse("arista_eos", "show inventory", s.run("show inventory"))
    assert inv[0]["pid"] == "DCS-7050SX3-48YC8"
    assert inv[0]["sn"] == ver["serial_number"]
    (clock,) = parse("arista_eos", "show clock", s.run("show clock"))
    assert clock["timezone"] == "UTC"
    assert s.run("write memory") == "Copy completed successfully.\n"
    assert "LEAF-3" in s.run("show startup-config")
    restored = s.platform.load_state(json.loads(json.dumps(s.state.to_json())))
    assert restored.hostname == "LEAF-3"


def nxos() -> Session:
    s = Session("cisco_nxos")
    assert s.prompt() == "R1# "
    return s


def test_nxos_modes_and_errors() -> None:
    s = nxos()
    assert s.run("show bogus") == " " * (len("R1# ") + 5) + "^\n% Invalid command at '^' marker.\n"
    assert s.run("show") == "% Incomplete command at '^' marker.\n"
    assert s.run("write memory").endswith("% Invalid command at '^' marker.\n")
    s.run("conf t")
    assert s.prompt() == "R1(config)# "
    s.run("int eth1/7")
    assert s.prompt() == "R1(config-if)# "
    assert "version 9.3(10)" in s.run("show running-config")
    s.run("end")
    assert s.run("terminal length 0") == ""
    assert s.engine.paging() is None
    s.run("exit")
    assert s.closed


def test_interface_values_are_checked_and_expanded_like_keywords() -> None:
    s = nxos()
    s.lines("configure terminal", "interface Ethernet1/3")
    pad = len("R1(config-if)# ")
    typo = s.run("switchport mode trunkk")
    assert typo == " " * (pad + len("switchport mode ")) + "^\n% Invalid command at '^' marker.\n"
    assert s.run("duplex fast").endswith("% Invalid command at '^' marker.\n")
    assert s.run("switchport mode") == "% Incomplete command at '^' marker.\n"
    assert s.run("sw mo tr") == ""
    s.run("end")
    run = s.run("show running-config")
    assert "interface Ethernet1/3\n  switchport mode trunk\n" in run
    assert "trunkk" not in run
    assert "fast" not in run
    e = eos()
    e.lines("configure terminal", "interface Ethernet2")
    assert e.run("switchport mode trunkk") == "% Invalid input\n"


def test_nxos_configuration_and_parsing() -> None:
    s = nxos()
    s.lines("configure terminal", "hostname N9K-7", "interface Ethernet1/5", "description core")
    s.lines("no switchport", "ip address 192.0.2.9/30", "no shutdown", "interface loopback0")
    s.lines("ip address 198.51.100.9/32", "vlan 40", "name STORAGE", "interface Eth1/6")
    s.lines("switchport access vlan 40", "interface Ethernet1/8", "shutdown", "end")
    assert s.prompt() == "N9K-7# "
    run = s.run("show running-config")
    assert "interface Ethernet1/5\n  description core\n  no switchport\n" in run
    assert "  ip address 192.0.2.9/30\n  no shutdown\n" in run
    (ver,) = parse("cisco_nxos", "show version", s.run("show version"))
    assert ver["hostname"] == "N9K-7"
    assert ver["os"] == "9.3(10)"
    assert ver["platform"] == "C93180YC-EX"
    assert ver["serial"].startswith("FDO")
    brief = parse_by(
        "cisco_nxos", "show ip interface brief", s.run("sh ip int br"), key="interface"
    )
    assert brief["Eth1/5"]["ip_address"] == "192.0.2.9"
    assert brief["Lo0"]["ip_address"] == "198.51.100.9"
    assert brief["Eth1/5"]["status"] == "admin-up"
    ports = parse_by("cisco_nxos", "show interface brief", s.run("sh int br"), key="interface")
    assert ports["mgmt0"]["ip_address"].startswith("10.")
    assert ports["Eth1/6"]["vlan_id"] == "40"
    assert ports["Eth1/5"]["mode"] == "routed"
    assert ports["Eth1/8"]["reason"] == "Administratively down"
    assert ports["Lo0"]["status"] == "up"
    vlans = parse_by("cisco_nxos", "show vlan", s.run("show vlan"), key="vlan_id")
    assert vlans["40"]["vlan_name"] == "STORAGE"
    assert vlans["40"]["interfaces"] == ["Eth1/6"]
    inv = parse("cisco_nxos", "show inventory", s.run("show inventory"))
    assert inv[0]["sn"] == ver["serial"]
    (clock,) = parse("cisco_nxos", "show clock", s.run("show clock"))
    assert clock["timezone"] == "UTC"
    assert s.run("copy run start").endswith("Copy complete.\n")
    s.lines("conf t", "hostname LOST", "end")
    s.state.reboot()
    assert s.state.hostname == "N9K-7"

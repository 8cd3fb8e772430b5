"""TextFSM parsing with ntc-templates on realistic device output."""

from __future__ import annotations

from pathlib import Path

import pytest

from netfleet.core.errors import ConfigurationError, DeviceError, ParseError, TemplateNotFound
from netfleet.platforms.parsing import has_template, parse_textfsm, textfsm_platform_for

IOS_SHOW_VERSION = """\
Cisco IOS Software, C2900 Software (C2900-UNIVERSALK9-M), Version 15.7(3)M5, RELEASE SOFTWARE (fc1)
Technical Support: http://www.cisco.com/techsupport
Copyright (c) 1986-2019 by Cisco Systems, Inc.
Compiled Wed 30-Jan-19 20:34 by prod_rel_team

ROM: System Bootstrap, Version 15.0(1r)M16, RELEASE SOFTWARE (fc1)

branch-rtr-7 uptime is 2 weeks, 3 days, 4 hours, 5 minutes
System returned to ROM by power-on
System image file is "flash0:c2900-universalk9-mz.SPA.157-3.M5.bin"
Last reload type: Normal Reload
Last reload reason: power-on

This product contains cryptographic features and is subject to United
States and local country laws governing import, export, transfer and
use.

Cisco CISCO2911/K9 (revision 1.0) with 483328K/40960K bytes of memory.
Processor board ID FTX1840AHKP
3 Gigabit Ethernet interfaces
DRAM configuration is 64 bits wide with parity enabled.
255K bytes of non-volatile configuration memory.
250880K bytes of ATA System CompactFlash 0 (Read/Write)

Configuration register is 0x2102
"""

IOS_IP_INT_BRIEF = """\
Interface              IP-Address      OK? Method Status                Protocol
GigabitEthernet0/0     10.0.0.1        YES NVRAM  up                    up
GigabitEthernet0/1     unassigned      YES NVRAM  administratively down down
GigabitEthernet0/2     192.0.2.17      YES manual up                    down
Loopback0              198.51.100.1    YES NVRAM  up                    up
"""

EOS_SHOW_VERSION = """\
Arista vEOS-lab
Hardware version:
Serial number: 5D1A2B3C4D5E
Hardware MAC address: 5254.0012.3456
System MAC address: 5254.0012.3456

Software image version: 4.27.0F
Architecture: x86_64
Internal build version: 4.27.0F-24305004.4270F
Internal build ID: 0f6b1a8e-4c5d-4a1e-9e3b-6a2c1d0e9f87
Image format version: 1.0
Image optimization: None

Uptime: 1 hour and 12 minutes
Total memory: 4002360 kB
Free memory: 2765412 kB
"""

EOS_IP_INT_BRIEF = """\
                                                                        Address
Interface         IP Address            Status       Protocol           MTU    Owner
----------------- --------------------- ------------ -------------- ---------- -------
Ethernet1         10.0.0.1/31           up           up                 1500
Loopback0         192.0.2.1/32          up           up                65535
Management1       172.20.0.2/24         up           up                 1500
Vlan100           unassigned            down         lowerlayerdown     1500
"""

NXOS_IP_INT_BRIEF = """\

IP Interface Status for VRF "default"(1)
Interface            IP Address      Interface Status
Lo0                  192.0.2.11      protocol-up/link-up/admin-up
Eth1/1               10.1.1.1        protocol-up/link-up/admin-up
Vlan10               10.10.0.1       protocol-down/link-down/admin-up
"""

NXOS_SHOW_VERSION = """\
Cisco Nexus Operating System (NX-OS) Software
TAC support: http://www.cisco.com/tac
Copyright (C) 2002-2020, Cisco and/or its affiliates.
All rights reserved.

Nexus 9000v is a demo version of the Nexus Operating System

Software
  BIOS: version
 NXOS: version 9.3(5)
  BIOS compile time:
  NXOS image file is: bootflash:///nxos.9.3.5.bin
  NXOS compile time:  7/20/2020 20:00:00 [07/21/2020 06:30:34]


Hardware
  cisco Nexus9000 C9300v Chassis
  Intel(R) Xeon(R) Gold 6148 CPU @ 2.40GHz with 8161032 kB of memory.
  Processor Board ID 9N3KD63KWT0

  Device name: nx-core-1
  bootflash:    4287040 kB
Kernel uptime is 0 day(s), 1 hour(s), 12 minute(s), 33 second(s)

Last reset
  Reason: Unknown
  System version:
  Service:
"""

XR_IP_INT_BRIEF = """\
Fri Nov 27 03:31:12.345 UTC

Interface                      IP-Address      Status          Protocol Vrf-Name
Loopback0                      192.0.2.21      Up              Up       default
MgmtEth0/RP0/CPU0/0            172.20.0.5      Up              Up       default
GigabitEthernet0/0/0/0         10.2.2.1        Up              Up       default
GigabitEthernet0/0/0/1         unassigned      Shutdown        Down     default
"""

JUNOS_SHOW_VERSION = """\
Hostname: vmx1
Model: vmx
Junos: 21.4R3.15
JUNOS OS Kernel 64-bit  [20220620.7e2b0bf_builder_stable_12_214]
JUNOS OS libs [20220620.7e2b0bf_builder_stable_12_214]
JUNOS OS runtime [20220620.7e2b0bf_builder_stable_12_214]
"""


def test_ios_show_version() -> None:
    (row,) = parse_textfsm("cisco_ios", "show version", IOS_SHOW_VERSION)
    assert row["version"] == "15.7(3)M5"
    assert row["hostname"] == "branch-rtr-7"
    assert row["hardware"] == ["CISCO2911/K9"]
    assert row["serial"] == ["FTX1840AHKP"]
    assert row["config_register"] == "0x2102"
    assert all(key == key.lower() for key in row)


@pytest.mark.parametrize("platform", ["cisco_ios", "cisco_xe"])
@pytest.mark.parametrize(
    "command", ["show ip interface brief", "sh ip int br", "show  ip int  brief"]
)
def test_ios_show_ip_interface_brief(platform: str, command: str) -> None:
    rows = parse_textfsm(platform, command, IOS_IP_INT_BRIEF)
    assert [(r["interface"], r["ip_address"], r["status"], r["proto"]) for r in rows] == [
        ("GigabitEthernet0/0", "10.0.0.1", "up", "up"),
        ("GigabitEthernet0/1", "unassigned", "administratively down", "down"),
        ("GigabitEthernet0/2", "192.0.2.17", "up", "down"),
        ("Loopback0", "198.51.100.1", "up", "up"),
    ]


def test_eos_show_version_and_ip_interface_brief() -> None:
    (version,) = parse_textfsm("arista_eos", "show version", EOS_SHOW_VERSION)
    assert (version["model"], version["image"], version["serial_number"]) == (
        "vEOS-lab",
        "4.27.0F",
        "5D1A2B3C4D5E",
    )
    rows = parse_textfsm("arista_eos", "show ip interface brief", EOS_IP_INT_BRIEF)
    assert [(r["interface"], r["ip_address"], r["protocol"], r["mtu"]) for r in rows] == [
        ("Ethernet1", "10.0.0.1/31", "up", "1500"),
        ("Loopback0", "192.0.2.1/32", "up", "65535"),
        ("Management1", "172.20.0.2/24", "up", "1500"),
        ("Vlan100", "unassigned", "lowerlayerdown", "1500"),
    ]


def test_nxos_show_version_and_ip_interface_brief() -> None:
    (version,) = parse_textfsm("cisco_nxos", "show version", NXOS_SHOW_VERSION)
    assert (version["os"], version["hostname"], version["platform"], version["serial"]) == (
        "9.3(5)",
        "nx-core-1",
        "C9300v",
        "9N3KD63KWT0",
    )
    rows = parse_textfsm("cisco_nxos", "show ip interface brief", NXOS_IP_INT_BRIEF)
    assert [(r["vrf"], r["interface"], r["ip_address"], r["proto"]) for r in rows] == [
        ("default", "Lo0", "192.0.2.11", "protocol-up"),
        ("default", "Eth1/1", "10.1.1.1", "protocol-up"),
        ("default", "Vlan10", "10.10.0.1", "protocol-down"),
    ]


def test_xr_show_ip_interface_brief() -> None:
    rows = parse_textfsm("cisco_xr", "show ip interface brief", XR_IP_INT_BRIEF)
    assert [(r["interface"], r["status"], r["vrf"]) for r in rows] == [
        ("Loopback0", "Up", "default"),
        ("MgmtEth0/RP0/CPU0/0", "Up", "default"),
        ("GigabitEthernet0/0/0/0", "Up", "default"),
        ("GigabitEthernet0/0/0/1", "Shutdown", "default"),
    ]


def test_junos_show_version() -> None:
    (row,) = parse_textfsm("juniper_junos", "show version", JUNOS_SHOW_VERSION)
    assert (row["hostname"], row["model"], row["junos_version"]) == ("vmx1", "vmx", "21.4R3.15")


def test_multi_template_command_merges_columns() -> None:
    output = """\
Switch/Stack Mac Address : 0c75.bd8f.8a00 - Local Mac Address
Mac persistency wait time: Indefinite
                                             H/W   Current
Switch#   Role    Mac Address     Priority Version  State
------------------------------------------------------------
*1       Active   0c75.bd8f.8a00     15     V01     Ready
 2       Standby  0c75.bd8f.9b80     14     V01     Ready

         Stack Port Status             Neighbors
Switch#  Port 1     Port 2           Port 1   Port 2
--------------------------------------------------------
  1        OK         OK               2        2
  2        OK         OK               1        1
"""
    rows = parse_textfsm("cisco_ios", "show switch detail", output)
    assert [(r["switch"], r["role"], r["status1"], r["neighbor1"]) for r in rows] == [
        ("1", "Active", "OK", "2"),
        ("2", "Standby", "OK", "1"),
    ]


def test_missing_template_names_platform_and_command() -> None:
    with pytest.raises(TemplateNotFound) as info:
        parse_textfsm("cisco_xe", "show frobnicators", "x", device="r1")
    message = str(info.value)
    assert "'cisco_xe'" in message
    assert "'cisco_ios'" in message  # the ntc-templates platform it maps to
    assert "'show frobnicators'" in message
    assert message.startswith("r1: ")
    assert isinstance(info.value, ParseError)
    assert isinstance(info.value, DeviceError)
    assert not has_template("cisco_ios", "show frobnicators")
    assert has_template("cisco_xe", "show version")


def test_unknown_platform_has_no_templates() -> None:
    with pytest.raises(TemplateNotFound, match="'no_such_os'"):
        parse_textfsm("no_such_os", "show version", "")


def test_template_rejecting_output_is_a_parse_error() -> None:
    with pytest.raises(ParseError) as info:
        parse_textfsm("arista_eos", "show version", "Arista vEOS\nthis line is not expected\n")
    assert not isinstance(info.value, TemplateNotFound)
    assert "arista_eos" in str(info.value)
    assert "show version" in str(info.value)


def test_platform_mapping() -> None:
    assert textfsm_platform_for("cisco_xe") == "cisco_ios"
    assert textfsm_platform_for("juniper_junos") == "juniper_junos"
    assert textfsm_platform_for("hp_comware") == "hp_comware"


def test_custom_textfsm_dir_is_searched_before_ntc_templates(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "index").write_text(
        "Template, Hostname, Platform, Command\n\n"
        "nf_ios_show_version.textfsm, .*, cisco_ios, sh[[ow]] ver[[sion]]\n"
        "nf_ios_show_widgets.textfsm, .*, cisco_ios, sh[[ow]] widg[[ets]]\n",
        encoding="utf-8",
    )
    (tmp_path / "nf_ios_show_version.textfsm").write_text(
        "Value UPTIME (.+)\n\nStart\n  ^\\S+ uptime is ${UPTIME}\n", encoding="utf-8"
    )
    (tmp_path / "nf_ios_show_widgets.textfsm").write_text(
        "Value NAME (\\S+)\n\nStart\n  ^widget ${NAME} -> Record\n", encoding="utf-8"
    )
    monkeypatch.setenv("NETFLEET_TEXTFSM_DIR", str(tmp_path))
    version = "R1 uptime is 1 week, 2 days\nCisco IOS Software, C2960 Software\n"
    assert parse_textfsm("cisco_ios", "show version", version) == [{"uptime": "1 week, 2 days"}]
    assert parse_textfsm("cisco_ios", "sh widg", "widget a\nwidget b\n") == [
        {"name": "a"},
        {"name": "b"},
    ]
    assert has_template("cisco_ios", "show ip interface brief")  # ntc-templates still used
    monkeypatch.delenv("NETFLEET_TEXTFSM_DIR")
    assert not has_template("cisco_ios", "show widgets")


def test_custom_textfsm_dir_without_index_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NETFLEET_TEXTFSM_DIR", str(tmp_path))
    with pytest.raises(ConfigurationError, match=r"NETFLEET_TEXTFSM_DIR=.*: no 'index' file"):
        parse_textfsm("cisco_ios", "show version", "x\n")

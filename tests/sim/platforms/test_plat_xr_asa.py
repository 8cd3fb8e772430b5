"""Cisco IOS-XR (candidate configuration) and ASA engines, with ntc-templates parsing."""

from __future__ import annotations

import json

from tests.support.sim_session import Session, enabled, parse, parse_by

XR_PROMPT = "RP/0/RP0/CPU0:R1#"


def test_xr_prompts_and_errors() -> None:
    s = Session("cisco_xr")
    assert s.prompt() == XR_PROMPT
    assert "Authorized access only" in s.engine.motd()
    assert (
        s.run("show foo")
        == " " * (len(XR_PROMPT) + 5) + "^\n% Invalid input detected at '^' marker.\n"
    )
    assert s.run("show") == "% Incomplete command.\n"
    assert s.run("s") == '% Ambiguous command:  "s"\n'
    assert s.run("write memory").endswith("% Invalid input detected at '^' marker.\n")
    s.run("configure terminal")
    assert s.prompt() == "RP/0/RP0/CPU0:R1(config)#"
    s.run("interface GigabitEthernet0/0/0/5")
    assert s.prompt() == "RP/0/RP0/CPU0:R1(config-if)#"
    s.run("end")
    assert s.prompt() == XR_PROMPT
    assert s.run("terminal length 0") == ""
    assert s.engine.paging() is None
    assert s.run("terminal width 511") == ""
    s.run("exit")
    assert s.closed


def test_xr_candidate_commit_abort_and_end_question() -> None:
    s = Session("cisco_xr")
    s.lines("configure terminal", "hostname PE-1", "interface gi0/0/0/5", "description core")
    s.lines("ipv4 address 192.0.2.1 255.255.255.0", "no shutdown")
    changes = s.run("show configuration")
    assert "hostname PE-1\ninterface GigabitEthernet0/0/0/5\n description core\n" in changes
    assert "no hostname" not in changes
    assert "+   description core" in s.run("show commit changes diff")
    assert "hostname R1" in s.run("show running-config")
    assert s.run("end") == ""
    assert s.prompt() == (
        "Uncommitted changes found, commit them before exiting(yes/no/cancel)? [cancel]:"
    )
    assert s.run("") == ""
    assert s.prompt() == "RP/0/RP0/CPU0:R1(config-if)#"
    assert s.run("commit") == ""
    assert s.prompt() == "RP/0/RP0/CPU0:PE-1(config-if)#"
    assert s.run("commit") == "% No configuration changes to commit.\n"
    s.lines("hostname SCRATCH", "interface gi0/0/0/6", "description scratch")
    assert s.run("clear") == ""  # discards the candidate, stays in configuration mode
    assert s.prompt() == "RP/0/RP0/CPU0:PE-1(config)#"
    assert s.run("show commit changes diff").count("+") == 0
    assert s.run("commit") == "% No configuration changes to commit.\n"
    s.run("hostname SCRATCH")
    s.run("abort")
    assert s.prompt() == "RP/0/RP0/CPU0:PE-1#"
    s.lines("conf t", "hostname PE-2", "end")
    s.run("no")
    assert s.state.hostname == "PE-1"
    s.lines("conf t", "hostname PE-3", "exit", "yes")
    assert s.prompt() == "RP/0/RP0/CPU0:PE-3#"
    assert s.run("show configuration commit list").count("vty0:node0_RP0_CPU0") == 2
    s.state.reboot()
    assert s.state.hostname == "PE-3"


def test_xr_parsing() -> None:
    s = Session("cisco_xr")
    s.lines(
        "conf t",
        "interface Loopback9",
        "ipv4 address 198.51.100.9 255.255.255.255",
        "commit",
        "end",
    )
    (ver,) = parse("cisco_xr", "show version", s.run("show version"))
    assert ver["version"] == "7.5.2"
    assert ver["hardware"] == "IOS-XRv 9000"
    assert ver["uptime"].startswith("1 week 3 days ")
    rows = parse_by("cisco_xr", "show ip interface brief", s.run("sh ip int br"), key="interface")
    assert rows["Loopback9"]["ip_address"] == "198.51.100.9"
    assert rows["GigabitEthernet0/0/0/7"]["status"] == "Shutdown"
    assert rows["MgmtEth0/RP0/CPU0/0"]["status"] == "Up"
    inv = parse("cisco_xr", "admin show inventory", s.run("show inventory"))
    assert [i["pid"] for i in inv] == ["R-IOSXRV9000-LC-C", "R-IOSXRV9000-RP-C", "R-IOSXRV9000-CC"]
    restored = s.platform.load_state(json.loads(json.dumps(s.state.to_json())))
    assert "Loopback9" in Session("cisco_xr", state=restored).run("show running-config")


def asa() -> Session:
    return enabled("cisco_asa", " ")


def test_asa_modes_errors_and_paging() -> None:
    s = Session("cisco_asa")
    s.run("enable")
    assert s.run("wrong") == "Invalid password\n"
    s = asa()
    assert (
        s.run("show foo")
        == " " * (len("R1# ") + 5) + "^\nERROR: % Invalid input detected at '^' marker.\n"
    )
    assert s.run("show") == "ERROR: % Incomplete command\n"
    pager = s.engine.paging()
    assert pager is not None
    assert pager.prompt == "<--- More --->"
    assert s.run("terminal pager 0") == ""
    assert s.engine.paging() is None
    s.run("configure terminal")
    assert s.prompt() == "R1(config)# "
    s.run("interface GigabitEthernet1/3")
    assert s.prompt() == "R1(config-if)# "
    assert "ASA Version 9.16(4)" in s.run("show running-config")
    s.lines("end", "disable")
    assert s.prompt() == "R1> "
    s.run("quit")
    assert s.closed


def test_asa_configuration_save_and_parsing() -> None:
    s = asa()
    s.lines("configure terminal", "hostname FW-9", "interface GigabitEthernet1/3", "nameif dmz")
    s.lines("security-level 50", "ip address 172.16.0.1 255.255.255.0", "no shutdown", "exit")
    s.lines("banner motd Change freeze in effect", "end")
    run = s.run("show running-config")
    assert (
        "interface GigabitEthernet1/3\n nameif dmz\n security-level 50\n"
        " ip address 172.16.0.1 255.255.255.0\n!" in run
    )
    assert s.engine.motd() == "\nChange freeze in effect\n"
    assert s.run("copy running-config startup-config") == ""
    assert s.prompt() == "Source filename [running-config]? "
    assert "bytes copied" in s.run("")
    assert "hostname FW-9" in s.run("show startup-config")
    assert s.run("write memory").endswith("[OK]\n")
    (ver,) = parse("cisco_asa", "show version", s.run("show version"))
    assert ver["hostname"] == "FW-9"
    assert ver["version"] == "9.16(4)"
    assert ver["serial"][0].startswith("JAD")
    assert "GigabitEthernet1/3" in ver["interfaces"]
    rows = parse_by("cisco_asa", "show interface ip brief", s.run("sh int ip br"), key="interface")
    assert rows["GigabitEthernet1/3"]["ip_address"] == "172.16.0.1"
    assert rows["GigabitEthernet1/3"]["status"] == "up"
    assert rows["GigabitEthernet1/4"]["status"] == "administratively down"
    inv = parse("cisco_asa", "show inventory", s.run("show inventory"))
    assert inv[0]["sn"] == ver["serial"][0]

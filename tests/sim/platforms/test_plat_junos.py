"""Juniper Junos engine: operational/configuration modes, candidate commits, parsing."""

from __future__ import annotations

import json

from tests.support.sim_session import Session, parse


def test_prompts_banner_and_paging() -> None:
    s = Session("juniper_junos")
    assert s.prompt() == "admin@R1> "
    assert "JUNOS 21.4R3-S5.4" in s.engine.motd()
    assert "Authorized access only" in s.platform.ssh_banner(s.state)
    pager = s.engine.paging()
    assert pager is not None
    assert pager.prompt == "---(more)---"
    assert s.run("set cli screen-length 0") == "Screen length set to 0\n"
    assert s.engine.paging() is None
    assert s.run("set cli screen-width 511") == "Screen width set to 511\n"


def test_error_messages() -> None:
    s = Session("juniper_junos")
    pad = len("admin@R1> ")
    assert s.run("foo") == " " * pad + "^\nunknown command.\n"
    assert s.run("show foo") == " " * (pad + 5) + "^\nsyntax error, expecting <command>.\n"
    ambiguous = s.run("s")
    assert ambiguous.startswith(" " * pad + "^\n's' is ambiguous.\nPossible completions:\n")
    assert "  show                 Show system information\n" in ambiguous
    s.run("configure")
    assert s.run("frob").endswith("unknown command.\n\n[edit]\n")
    assert s.run("set bogus thing").endswith("syntax error.\n\n[edit]\n")
    assert s.run("delete system foo") == "warning: statement not found\n\n[edit]\n"


def test_unknown_second_level_statement_is_a_syntax_error_under_its_word() -> None:
    s = Session("juniper_junos")
    s.run("configure")
    pad = len("admin@R1# ")
    unknown = " " * (pad + len("set system ")) + "^\nsyntax error.\n\n[edit]\n"
    assert s.run("set system foo bar") == unknown
    assert s.run("edit protocols frob") == " " * (pad + len("edit protocols ")) + (
        "^\nsyntax error.\n\n[edit]\n"
    )
    assert s.run("edit system") == "\n[edit system]\n"
    assert s.run("set foo") == " " * (pad + len("set ")) + "^\nsyntax error.\n\n[edit system]\n"
    assert s.run("set ntp server 10.1.1.1") == "\n[edit system]\n"
    s.run("top")
    # Names the user chooses take any word; statements valid anywhere are taken.
    assert s.run("set interfaces xe-0/0/9 description uplink") == "\n[edit]\n"
    assert s.run("set vlans LAB vlan-id 99") == "\n[edit]\n"
    assert s.run("set protocols apply-groups G1") == "\n[edit]\n"
    compare = s.run("show | compare")
    assert "foo" not in compare
    assert "frob" not in compare
    assert "server 10.1.1.1;" in compare


def test_candidate_compare_commit_and_rollback() -> None:
    s = Session("juniper_junos")
    assert s.run("configure") == "Entering configuration mode\n\n[edit]\n"
    assert s.prompt() == "admin@R1# "
    s.run("set system host-name EDGE-2")
    s.run('set interfaces ge-0/0/5 description "to core"')
    s.run("set interfaces ge-0/0/5 unit 0 family inet address 192.0.2.1/24")
    s.run("delete system ntp")
    compare = s.run("show | compare")
    assert "[edit system]\n-  host-name R1;\n+  host-name EDGE-2;\n" in compare
    assert "+  address 192.0.2.1/24;" in compare
    assert "host-name R1;" in s.run("run show configuration system")
    assert s.run("commit check") == "configuration check succeeds\n\n[edit]\n"
    assert s.prompt() == "admin@R1# "
    assert s.run("commit") == "commit complete\n\n[edit]\n"
    assert s.prompt() == "admin@EDGE-2# "
    s.run("set system host-name SCRATCH")
    assert s.run("rollback 0") == "load complete\n\n[edit]\n"
    assert s.run("show | compare") == "\n[edit]\n"
    s.run("edit interfaces ge-0/0/6")
    assert s.run("set disable") == "\n[edit interfaces ge-0/0/6]\n"
    assert s.run("show") == "disable;\n\n[edit interfaces ge-0/0/6]\n"
    s.run("top")
    assert s.run("exit") == "The configuration has been changed but not committed\n"
    assert s.prompt().startswith("Exit with uncommitted changes?")
    assert s.run("no") == "\n[edit]\n"
    assert s.run("commit and-quit") == "commit complete\nExiting configuration mode\n"
    assert s.prompt() == "admin@EDGE-2> "
    text = s.run("show configuration | display set | match ge-0/0/")
    assert "set interfaces ge-0/0/6 disable\n" in text
    assert 'set interfaces ge-0/0/5 description "to core"\n' in text
    conf = s.run("show configuration interfaces ge-0/0/5")
    assert conf == (
        'description "to core";\nunit 0 {\n    family inet {\n'
        "        address 192.0.2.1/24;\n    }\n}\n"
    )
    s.run("exit")
    assert s.closed


def test_show_commands_parse() -> None:
    s = Session("juniper_junos")
    s.run("configure")
    s.run("set vlans SRV vlan-id 30")
    s.run("set interfaces ge-0/0/7 unit 0 family ethernet-switching vlan members SRV")
    s.run("set interfaces ge-0/0/8 description storage")
    s.run("set interfaces ge-0/0/8 unit 0 family inet address 198.51.100.1/24")
    s.run("set interfaces ge-0/0/9 disable")
    s.run("commit and-quit")
    (ver,) = parse("juniper_junos", "show version", s.run("show version"))
    assert ver["hostname"] == "R1"
    assert ver["model"] == "ex4300-24t"
    assert ver["junos_version"] == "21.4R3-S5.4"
    hw = parse("juniper_junos", "show chassis hardware", s.run("show chassis hardware"))
    assert hw[0]["chassis_serial_number"].startswith("PE37")
    assert hw[0]["chassis_description"] == "EX4300-24T"
    (up,) = parse("juniper_junos", "show system uptime", s.run("show system uptime"))
    assert up["timezone"] == "UTC"
    assert up["last_config_user"] == "admin"
    vlans = {v["vlan_name"]: v for v in parse("juniper_junos", "show vlans", s.run("show vlans"))}
    assert vlans["SRV"]["tag"] == "30"
    assert vlans["SRV"]["interfaces"] == ["ge-0/0/7.0"]
    assert vlans["USERS"]["interfaces"] == ["ge-0/0/0.0*", "ge-0/0/1.0*"]
    rows = parse("juniper_junos", "show interfaces", s.run("show interfaces"))
    physical = {r["interface"]: r for r in rows}
    assert physical["ge-0/0/8"]["description"] == "storage"
    assert physical["ge-0/0/8"]["link_status"] == "Up"
    assert physical["ge-0/0/9"]["admin_state"] == "Disabled"
    assert physical["ge-0/0/8.0"]["local"] == "198.51.100.1"
    assert physical["ge-0/0/8.0"]["destination"] == "198.51.100.0/24"
    terse = s.run("show interfaces terse")
    assert "ge-0/0/8.0              up    up   inet     198.51.100.1/24\n" in terse
    assert "ge-0/0/9                down  down\n" in terse


def test_state_round_trip_and_reboot() -> None:
    s = Session("juniper_junos", config_size=300_000)
    s.lines("configure", "set system host-name KEEP", "commit and-quit")
    text = s.run("show configuration")
    assert 300_000 <= len(text) < 340_000
    data = json.loads(json.dumps(s.state.to_json()))
    restored = s.platform.load_state(data)
    assert restored.hostname == "KEEP"
    restored.reboot()
    again = Session("juniper_junos", state=restored)
    assert again.prompt() == "admin@KEEP> "
    assert again.run("show configuration") == text

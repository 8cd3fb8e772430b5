"""Cisco NX-OS (Nexus 93180YC-EX) platform data and show output."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from netfleet_sim.contract import Pager
from netfleet_sim.platforms.identity import ipv4_mgmt, serial, split_uptime
from netfleet_sim.platforms.ios_like import rollback, show
from netfleet_sim.platforms.ios_like import vocab as vocab_data
from netfleet_sim.platforms.ios_like.config import Config
from netfleet_sim.platforms.ios_like.ios import BANNER
from netfleet_sim.platforms.ios_like.state import IosFlavor, ShowFn
from netfleet_sim.platforms.ios_like.view import Hardware, IfaceView, clock_text, utc_now
from netfleet_sim.platforms.padding import nxos_acl

if TYPE_CHECKING:
    from netfleet_sim.platforms.ios_like.session import IosSession

NXOS_HW = Hardware(
    pid="N9K-C93180YC-EX",
    descr="Nexus9000 C93180YC-EX chassis",
    serial_prefix="FDO",
    oui=(0x00, 0x3A, 0x9C),
    connected=4,
    version="9.3(10)",
)
PORTS = [f"Ethernet1/{n}" for n in range(1, 55)]
NXOS_GLOBAL: vocab_data.Vocab = {
    **vocab_data.GLOBAL,
    "feature": 1,
    "copp": 1,
    "password": 1,
    "vdc": 1,
    "system": 1,
    "hardware": 1,
    "role": 1,
    "rmon": 1,
    "nv": 1,
    "evpn": 0,
    "fabric": 1,
    "cli": 3,
}


def nxos_config(hostname: str, index: int) -> Config:
    """Factory configuration of the simulated Nexus switch."""
    config: Config = [
        [f"hostname {hostname}"],
        ["feature interface-vlan"],
        ["feature lacp"],
        ["feature lldp"],
        ["no password strength-check"],
        ["username admin password 5 $5$KNoSKl6X$3yXq1lD0 role network-admin"],
        ["ip domain-lookup"],
        ["copp profile strict"],
        ["snmp-server community public group network-operator"],
        ["ntp server 10.255.0.1 use-vrf management"],
        [f"banner motd #{BANNER}#"],
        ["vlan 10", "name USERS"],
        ["vlan 20", "name VOICE"],
        ["vrf context management", "ip route 0.0.0.0/0 10.0.0.254"],
    ]
    for n, port in enumerate(PORTS):
        config.append(
            [f"interface {port}", "switchport access vlan 10"] if n < 2 else [f"interface {port}"]
        )
    config += [
        ["interface mgmt0", "vrf member management", f"ip address {ipv4_mgmt(index)}/8"],
        ["line console"],
        ["line vty"],
        [f"boot nxos bootflash:/nxos.{NXOS_HW.version.replace('(', '.').rstrip(')')}.bin"],
    ]
    return config


def _short(name: str) -> str:
    for long, short in (("Ethernet", "Eth"), ("loopback", "Lo"), ("port-channel", "Po")):
        if name.startswith(long):
            return short + name[len(long) :]
    return name


def show_version(eng: IosSession, args: tuple[str, ...]) -> str:
    """``show version``."""
    hw = eng.flavor.hardware
    _, weeks, days, hours, minutes = split_uptime(eng.state.uptime())
    booted = dt.datetime.fromtimestamp(eng.state.booted_at, dt.UTC)
    image = f"nxos.{hw.version.replace('(', '.').rstrip(')')}.bin"
    return f"""\
Cisco Nexus Operating System (NX-OS) Software
TAC support: http://www.cisco.com/tac
Copyright (C) 2002-2022, Cisco and/or its affiliates.
All rights reserved.
The copyrights to certain works contained in this software are
owned by other third parties and used and distributed under their own
licenses, such as open source.  This software is provided "as is," and unless
otherwise stated, there is no warranty, express or implied, including but not
limited to warranties of merchantability and fitness for a particular purpose.

Software
  BIOS: version 05.47
  NXOS: version {hw.version}
  BIOS compile time:  04/28/2022
  NXOS image file is: bootflash:///{image}
  NXOS compile time:  8/2/2022 12:00:00 [08/02/2022 20:14:33]


Hardware
  cisco Nexus9000 C93180YC-EX chassis
  Intel(R) Xeon(R) CPU  @ 1.80GHz with 24632252 kB of memory.
  Processor Board ID {serial(hw.serial_prefix, eng.state.index)}

  Device name: {eng.state.hostname}
  bootflash:   53298520 kB
Kernel uptime is {weeks * 7 + days} day(s), {hours} hour(s), {minutes} minute(s), 7 second(s)

Last reset at 127816 usecs after {booted:%a %b %d %H:%M:%S %Y}
  Reason: Reset Requested by CLI command reload
  System version: {hw.version}
  Service:

plugin
  Core Plugin, Ethernet Plugin

Active Package(s):

"""


def _config_text(eng: IosSession, config: Config, *, startup: bool) -> str:
    now = utc_now()
    change = dt.datetime.fromtimestamp(eng.state.last_change, dt.UTC)
    head = [
        "",
        "!Command: show startup-config" if startup else "!Command: show running-config",
        f"!Running configuration last done at: {change:%a %b %d %H:%M:%S %Y}",
        f"!Time: {now:%a %b %d %H:%M:%S %Y}",
        "",
        f"version {eng.flavor.hardware.version} Bios:version 05.47",
    ]
    return "\n".join([*head, *show.config_body(eng, config), ""]) + "\n"


def show_running(eng: IosSession, args: tuple[str, ...]) -> str:
    """``show running-config``."""
    return _config_text(eng, eng.state.running, startup=False)


def show_running_interface(eng: IosSession, args: tuple[str, ...]) -> str:
    """``show running-config interface NAME``."""
    lines = show.interface_lines(eng, args)
    if lines is None:
        return show.no_such_interface(eng)
    now = utc_now()
    change = dt.datetime.fromtimestamp(eng.state.last_change, dt.UTC)
    head = [
        "",
        f"!Command: show running-config interface {lines[0].split()[1]}",
        f"!Running configuration last done at: {change:%a %b %d %H:%M:%S %Y}",
        f"!Time: {now:%a %b %d %H:%M:%S %Y}",
        "",
        f"version {eng.flavor.hardware.version} Bios:version 05.47",
        "",
    ]
    return "\n".join([*head, *lines, ""]) + "\n"


def show_startup(eng: IosSession, args: tuple[str, ...]) -> str:
    """``show startup-config``."""
    return _config_text(eng, eng.state.startup_config(), startup=True)


def _routed(views: list[IfaceView]) -> list[IfaceView]:
    return [v for v in views if not v.switchport and not v.name.startswith("mgmt")]


def show_ip_int_brief(eng: IosSession, args: tuple[str, ...]) -> str:
    """``show ip interface brief`` (default VRF)."""
    lines = [
        'IP Interface Status for VRF "default"(1)',
        "Interface            IP Address      Interface Status",
    ]
    for v in _routed(show.views(eng)):
        if v.ip is None:
            continue
        admin = "admin-down" if v.shutdown else "admin-up"
        link = "link-up" if v.protocol == "up" else "link-down"
        proto = "protocol-up" if v.protocol == "up" else "protocol-down"
        lines.append(f"{_short(v.name):<20} {v.ip:<15} {proto}/{link}/{admin}")
    return "\n".join(lines) + "\n"


def show_int_brief(eng: IosSession, args: tuple[str, ...]) -> str:
    """``show interface brief``."""
    rule = "-" * 80
    views = show.views(eng)
    lines = [
        "",
        rule,
        "Port   VRF          Status IP Address                              Speed    MTU",
    ]
    lines.append(rule)
    for v in views:
        if v.name.startswith("mgmt"):
            lines.append(
                f"{v.name:<6} --           {v.protocol:<6} {v.ip or '--':<39} 1000     1500"
            )
    lines += [
        "",
        rule,
        "Ethernet      VLAN    Type Mode   Status  Reason                   Speed     Port",
        "Interface                                                                    Ch #",
        rule,
    ]
    for v in views:
        if not v.physical or v.name.startswith("mgmt"):
            continue
        vlan = str(v.access_vlan) if v.switchport else "--"
        mode = ("trunk" if v.trunk else "access") if v.switchport else "routed"
        up = v.protocol == "up"
        reason = "none" if up else ("Administratively down" if v.shutdown else "Link not connected")
        speed = "25G(D)" if up else "auto(D)"
        lines.append(
            f"{_short(v.name):<13} {vlan:<7} eth  {mode:<6} {'up' if up else 'down':<7} "
            f"{reason:<24} {speed:<9} --"
        )
    loops = [v for v in views if v.name.startswith("loopback")]
    if loops:
        lines += ["", rule, "Interface     Status     Description", rule]
        lines += [f"{_short(v.name):<13} {v.protocol:<10} {v.description or '--'}" for v in loops]
    return "\n".join([*lines, ""]) + "\n"


def show_vlan(eng: IosSession, args: tuple[str, ...]) -> str:
    """``show vlan``."""
    table, lines = show.vlan_ports_table(eng, _short)
    lines += ["", "VLAN Type         Vlan-mode", "---- -----        ----------"]
    lines += [f"{vid:<4} enet         CE" for vid in table]
    lines += ["", "Remote SPAN VLANs", "-" * 79, "", "Primary  Secondary  Type             Ports"]
    lines.append("-------  ---------  ---------------  -------------------------------------------")
    return "\n".join([*lines, ""]) + "\n"


def show_inventory(eng: IosSession, args: tuple[str, ...]) -> str:
    """``show inventory``."""
    hw = eng.flavor.hardware
    idx = eng.state.index
    sn = serial(hw.serial_prefix, idx)
    items = [
        ("Chassis", hw.descr, hw.pid, "V03", sn),
        ("Slot 1", "48x10/25G + 6x40/100G Ethernet Module", hw.pid, "V03", sn),
        ("Power Supply 1", "Nexus9000 Power Supply", "NXA-PAC-650W-PE", "V01", serial("LIT", idx)),
        ("Fan 1", "Nexus9000 Fan Module", "NXA-FAN-30CFM-B", "V01", "N/A"),
    ]
    out = []
    for name, descr, pid, vid, num in items:
        out.append(f'NAME: "{name}",  DESCR: "{descr}"\nPID: {pid:<20},  VID: {vid} ,  SN: {num}\n')
    return "\n".join(out) + "\n"


def show_clock(eng: IosSession, args: tuple[str, ...]) -> str:
    """``show clock``."""
    return clock_text(utc_now()) + "\nTime source is NTP\n"


SHOWS: dict[str, ShowFn] = {
    "version": show_version,
    "running-config": show_running,
    "running-config interface <rest>": show_running_interface,
    "startup-config": show_startup,
    "ip interface brief": show_ip_int_brief,
    "interface brief": show_int_brief,
    "vlan": show_vlan,
    "inventory": show_inventory,
    "clock": show_clock,
    "hostname": show.show_hostname,
    "users": show.show_users,
}

NXOS = IosFlavor(
    name="cisco_nxos",
    hardware=NXOS_HW,
    base_config=nxos_config,
    shows=SHOWS,
    user_shows=frozenset(SHOWS),
    iface_types=("Ethernet", "mgmt", "loopback", "port-channel", "Vlan", "Tunnel", "nve"),
    pager=Pager(prompt="--More--", lines=24, erase="\r        \r"),
    paging_off=("terminal length <arg>",),
    extra_exec={"terminal session-timeout <arg>": "noop", "configure": "configure"},
    privileged_exec=rollback.CHECKPOINT_PHRASES,
    login_privileged=True,
    alias_prefix="cli alias name ",
    prompt_space=True,
    invalid="% Invalid command at '^' marker.",
    incomplete="% Incomplete command at '^' marker.",
    ambiguous="% Ambiguous command at '^' marker.",
    error_blank_line=False,
    global_vocab=NXOS_GLOBAL,
    iface_vocab=vocab_data.INTERFACE,
    submodes={
        "interface": "if",
        "vlan": "vlan",
        "router": "router",
        "vrf context": "vrf",
        "ip access-list": "acl",
        "line console": "console",
        "line vty": "line",
    },
    explicit_no_shutdown=True,
    show_in_config=True,
    switch=True,
    indent="  ",
    separator="",
    write_memory=False,
    copy_question="",
    reload_question="This command will reboot the system. (y/n)?  [n] ",
    copy_output=(
        "[########################################] 100%\n"
        "Copy complete, now saving to disk (please wait)...\n"
        "Copy complete.\n"
    ),
    pad_style=nxos_acl,
    config_banner="Enter configuration commands, one per line. End with CNTL/Z.\n",
)

"""Arista EOS (DCS-7050SX3) platform data and show output."""

from __future__ import annotations

from typing import TYPE_CHECKING

from netfleet_sim.platforms.identity import (
    ipv4_mgmt,
    mac_bytes,
    mac_dotted,
    serial,
    split_uptime,
)
from netfleet_sim.platforms.ios_like import rollback, show
from netfleet_sim.platforms.ios_like import vocab as vocab_data
from netfleet_sim.platforms.ios_like.config import Config
from netfleet_sim.platforms.ios_like.ios import BANNER, MORE
from netfleet_sim.platforms.ios_like.state import IosFlavor, ShowFn
from netfleet_sim.platforms.ios_like.view import Hardware, IfaceView, utc_now, vlans

if TYPE_CHECKING:
    from netfleet_sim.platforms.ios_like.session import IosSession

EOS_HW = Hardware(
    pid="DCS-7050SX3-48YC8",
    descr="48x25GbE SFP & 8x100GbE QSFP switch",
    serial_prefix="JPE",
    oui=(0x28, 0x99, 0x3A),
    connected=4,
    version="4.30.2F",
)
PORTS = [f"Ethernet{n}" for n in range(1, 49)] + [f"Ethernet{n}/1" for n in range(49, 57)]

EOS_GLOBAL: vocab_data.Vocab = {
    **vocab_data.GLOBAL,
    "management": 1,
    "daemon": 1,
    "transceiver": 1,
    "agent": 1,
    "event-handler": 1,
    "schedule": 1,
    "mlag": 0,
    "peer-filter": 1,
    "queue-monitor": 1,
    "banner": {"motd": 0, "login": 0},
}


def eos_config(hostname: str, index: int) -> Config:
    """Factory configuration of the simulated switch."""
    config: Config = [
        ["no aaa root"],
        ["username admin privilege 15 role network-admin secret sha512 $6$Zr0ld4Ws$Hx1"],
        ["transceiver qsfp default-mode 4x10G"],
        ["service routing protocols model multi-agent"],
        [f"hostname {hostname}"],
        ["ip domain-name example.net"],
        ["spanning-tree mode mstp"],
        ["vlan 10", "name USERS"],
        ["vlan 20", "name VOICE"],
    ]
    for n, port in enumerate(PORTS):
        config.append(
            [f"interface {port}", "switchport access vlan 10"] if n < 2 else [f"interface {port}"]
        )
    config += [
        ["interface Management1", f"ip address {ipv4_mgmt(index)}/8"],
        ["ip routing"],
        ["ip route 0.0.0.0/0 10.0.0.254"],
        ["logging host 10.255.0.10"],
        ["snmp-server community public ro"],
        ["ntp server 10.255.0.1"],
        [f"banner motd\n{BANNER}\nEOF"],
        ["management api http-commands", "no shutdown"],
    ]
    return config


def _views(eng: IosSession) -> list[IfaceView]:
    return show.views(eng)


def _short(name: str) -> str:
    for long, short in (("Ethernet", "Et"), ("Management", "Ma"), ("Port-Channel", "Po")):
        if name.startswith(long):
            return short + name[len(long) :]
    return name


def show_version(eng: IosSession, args: tuple[str, ...]) -> str:
    """``show version``."""
    hw = eng.flavor.hardware
    mac = mac_dotted(mac_bytes(hw.oui, eng.state.index))
    _, weeks, days, hours, minutes = split_uptime(eng.state.uptime())
    return (
        f"Arista {hw.pid}\n"
        "Hardware version: 11.01\n"
        f"Serial number: {serial(hw.serial_prefix, eng.state.index)}\n"
        f"Hardware MAC address: {mac}\n"
        f"System MAC address: {mac}\n\n"
        f"Software image version: {hw.version}\n"
        "Architecture: x86_64\n"
        f"Internal build version: {hw.version}-33092737.4302F\n"
        "Internal build ID: 4ebd5d4a-7b6a-4c7d-9a2e-0b1bd5c4e0f1\n"
        "Image format version: 3.0\n"
        "Image optimization: Strata-4GB\n\n"
        f"Uptime: {weeks} weeks, {days} days, {hours} hours and {minutes} minutes\n"
        "Total memory: 8098984 kB\n"
        "Free memory: 5971228 kB\n\n"
    )


def _config_text(eng: IosSession, config: Config) -> str:
    hw = eng.flavor.hardware
    body = show.config_body(eng, config)
    head = [
        "! Command: show running-config",
        f"! device: {eng.state.hostname} ({hw.pid}, EOS-{hw.version})",
        "!",
        f"! boot system flash:/EOS-{hw.version}.swi",
        "!",
    ]
    return "\n".join([*head, *body, "end"]) + "\n"


def show_running(eng: IosSession, args: tuple[str, ...]) -> str:
    """``show running-config``."""
    return _config_text(eng, eng.state.running)


def show_running_interface(eng: IosSession, args: tuple[str, ...]) -> str:
    """``show running-config interfaces NAME``."""
    lines = show.interface_lines(eng, args)
    return show.no_such_interface(eng) if lines is None else "\n".join(lines) + "\n"


def show_startup(eng: IosSession, args: tuple[str, ...]) -> str:
    """``show startup-config``."""
    return _config_text(eng, eng.state.startup_config())


def show_ip_int_brief(eng: IosSession, args: tuple[str, ...]) -> str:
    """``show ip interface brief`` (routed interfaces only)."""
    lines = [
        " " * 72 + "Address",
        "Interface       IP Address         Status       Protocol           MTU    Owner",
        "--------------- ------------------ ------------ ------------------ ------ -------",
    ]
    for v in _views(eng):
        if v.switchport:
            continue
        ip = f"{v.ip}/{v.prefix}" if v.ip else "unassigned"
        status = "adminDown" if v.shutdown else v.status
        mtu = 65535 if v.name.startswith("Loopback") else v.mtu
        lines.append(f"{v.name:<15} {ip:<18} {status:<12} {v.protocol:<18} {mtu:<6}")
    return "\n".join(lines) + "\n"


def show_int_status(eng: IosSession, args: tuple[str, ...]) -> str:
    """``show interfaces status``."""
    lines = [
        "Port       Name        Status       Vlan     Duplex Speed  Type            Flags "
        "Encapsulation"
    ]
    for v in _views(eng):
        if not v.physical:
            continue
        status = "disabled" if v.shutdown else ("connected" if v.connected else "notconnect")
        vlan = "trunk" if v.trunk else (str(v.access_vlan) if v.switchport else "routed")
        up = status == "connected"
        duplex, speed = ("full", "25G") if up else ("auto", "auto")
        kind = "10/100/1000" if v.name.startswith("Management") else "25GBASE-SR"
        if v.name.startswith("Management"):
            duplex, speed = ("a-full", "a-1G")
        lines.append(
            f"{_short(v.name):<10} {v.description[:11]:<11} {status:<12} {vlan:<8} "
            f"{duplex:<6} {speed:<6} {kind}"
        )
    return "\n".join(lines) + "\n"


def show_int_description(eng: IosSession, args: tuple[str, ...]) -> str:
    """``show interfaces description``."""
    lines = ["Interface                      Status         Protocol           Description"]
    for v in _views(eng):
        status = "admin down" if v.shutdown else v.status
        lines.append(f"{_short(v.name):<30} {status:<14} {v.protocol:<18} {v.description}")
    return "\n".join(lines) + "\n"


def show_vlan(eng: IosSession, args: tuple[str, ...]) -> str:
    """``show vlan``."""
    members: dict[int, list[str]] = {}
    for v in _views(eng):
        if v.switchport and not v.trunk and v.connected and not v.shutdown:
            members.setdefault(v.access_vlan, []).append(_short(v.name))
    lines = [
        "VLAN  Name                             Status    Ports",
        "----- -------------------------------- --------- -------------------------------",
    ]
    for vid, name in vlans(eng.state.running).items():
        ports = members.get(vid, [])
        chunks = [", ".join(ports[i : i + 5]) for i in range(0, len(ports), 5)] or [""]
        lines.append(f"{vid:<5} {name:<32} {'active':<9} {chunks[0]}".rstrip())
        lines.extend(f"{'':<49}{chunk}" for chunk in chunks[1:])
    return "\n".join(lines) + "\n"


def show_inventory(eng: IosSession, args: tuple[str, ...]) -> str:
    """``show inventory``."""
    hw = eng.flavor.hardware
    idx = eng.state.index
    lines = [
        "System information",
        "  Model                    Description",
        "  ------------------------ ----------------------------------------------------",
        f"  {hw.pid:<24} {hw.descr}",
        "",
        "  HW Version  Serial Number  Date Manufactured",
        "  ----------- -------------- -----------------",
        f"  11.01       {serial(hw.serial_prefix, idx):<14} 2021-05-14",
        "",
        "System has 2 power supply slots",
        "  Slot Model            Serial Number",
        "  ---- ---------------- ----------------",
    ]
    lines += [f"  {n}    PWR-500AC-F      {serial('EEWT', idx * 2 + n)}" for n in (1, 2)]
    lines += [
        "",
        "System has 4 fan modules",
        "  Module  Number of Fans  Model            Serial Number",
        "  ------- --------------- ---------------- ----------------",
    ]
    lines += [f"  {n}       1               FAN-7000-F       N/A" for n in range(1, 5)]
    lines += [
        "",
        "System has 57 ports",
        "  Type             Count",
        "  ---------------- ----",
        "  Management       1",
        "  Switched         56",
        "",
    ]
    return "\n".join(lines) + "\n"


def show_clock(eng: IosSession, args: tuple[str, ...]) -> str:
    """``show clock``."""
    now = utc_now()
    return f"{now:%a %b %d %H:%M:%S %Y}\nTimezone: UTC\nClock source: local\n"


def show_hostname(eng: IosSession, args: tuple[str, ...]) -> str:
    """``show hostname``."""
    host = eng.state.hostname
    return f"Hostname: {host}\nFQDN:     {host}.example.net\n"


SHOWS: dict[str, ShowFn] = {
    "version": show_version,
    "running-config": show_running,
    "running-config interfaces <rest>": show_running_interface,
    "startup-config": show_startup,
    "ip interface brief": show_ip_int_brief,
    "interfaces status": show_int_status,
    "interfaces description": show_int_description,
    "vlan": show_vlan,
    "inventory": show_inventory,
    "clock": show_clock,
    "hostname": show_hostname,
    "users": show.show_users,
}

EOS = IosFlavor(
    name="arista_eos",
    hardware=EOS_HW,
    base_config=eos_config,
    shows=SHOWS,
    user_shows=frozenset({"version", "clock", "hostname", "inventory", "ip interface brief"}),
    iface_types=("Ethernet", "Management", "Loopback", "Port-Channel", "Vlan", "Tunnel", "Vxlan"),
    pager=MORE,
    paging_off=("terminal length <arg>",),
    replies={
        "width": "Width set to {n} columns.\n",
        "length": "Pagination set to {n} lines.\n",
        "length0": "Pagination disabled.\n",
    },
    extra_exec={"terminal monitor": "noop", "terminal dont-ask": "noop", "configure": "configure"},
    privileged_exec=rollback.FILE_PHRASES,
    invalid="% Invalid input",
    caret=False,
    incomplete="% Incomplete command",
    ambiguous="% Ambiguous command",
    error_blank_line=False,
    enable_attempts=1,
    bad_secret="% Access denied",
    global_vocab=EOS_GLOBAL,
    iface_vocab=vocab_data.INTERFACE,
    submodes={
        "interface": "if-{short}",
        "vlan": "vlan-{arg}",
        "router bgp": "router-bgp",
        "router ospf": "router-ospf",
        "ip access-list": "acl-{arg}",
        "management api http-commands": "mgmt-api-http-cmds",
        "management ssh": "mgmt-ssh",
        "line": "line",
    },
    show_in_config=True,
    banner_eof=True,
    switch=True,
    indent="   ",
    copy_question="",
    save_output="Copy completed successfully.\n",
    copy_output="Copy completed successfully.\n",
    config_banner="",
)

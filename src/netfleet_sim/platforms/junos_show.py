"""Operational-mode output of the simulated Juniper EX4300 (shapes parsed by ntc-templates)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from netfleet_sim.platforms import junoscfg
from netfleet_sim.platforms.identity import mac_bytes, mac_colon, serial
from netfleet_sim.platforms.padding import junos_filter, pad_lines

if TYPE_CHECKING:
    from netfleet_sim.platforms.junos import JunosEngine
    from netfleet_sim.platforms.junos_state import JunosState

MODEL = "ex4300-24t"
VERSION = "21.4R3-S5.4"
BUILD = "20230321.be2763a_builder_stable_12_214"
OUI = (0x28, 0x8A, 0x1C)
PORTS = [f"ge-0/0/{n}" for n in range(24)] + [f"xe-0/2/{n}" for n in range(4)] + ["me0"]
CONNECTED = 4


@dataclass
class JunosIface:
    """One interface and its logical units as seen by show commands."""

    name: str
    description: str = ""
    disabled: bool = False
    up: bool = True
    units: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    """Unit number -> (family, address or "") pairs."""


def interfaces(statements: list[str]) -> list[JunosIface]:
    """Physical ports plus configured interfaces, with their units."""
    found: dict[str, JunosIface] = {name: JunosIface(name) for name in PORTS}
    for statement in statements:
        parts = junoscfg.words(statement)
        if len(parts) < 3 or parts[0] != "interfaces":
            continue
        iface = found.setdefault(parts[1], JunosIface(parts[1]))
        rest = parts[2:]
        if rest[0] == "description" and len(rest) > 1:
            iface.description = rest[1].strip('"')
        elif rest[0] == "disable":
            iface.disabled = True
        elif rest[0] == "unit" and len(rest) >= 4 and rest[2] == "family":
            address = rest[5] if len(rest) >= 6 and rest[4] == "address" else ""
            entries = iface.units.setdefault(rest[1], [])
            if (rest[3], "") in entries and address:
                entries.remove((rest[3], ""))
            if address or not any(f == rest[3] for f, _ in entries):
                entries.append((rest[3], address))
    port = 0
    for iface in found.values():
        if iface.name in PORTS and iface.name != "me0":
            port += 1
            iface.up = port <= CONNECTED or bool(iface.description)
        iface.up = iface.up and not iface.disabled
    return list(found.values())


def show_interfaces_terse(state: JunosState) -> str:
    """``show interfaces terse``."""
    lines = ["Interface               Admin Link Proto    Local                 Remote"]
    for iface in interfaces(state.committed):
        admin = "down" if iface.disabled else "up"
        link = "up" if iface.up else "down"
        lines.append(f"{iface.name:<23} {admin:<5} {link}")
        for unit, families in iface.units.items():
            for i, (family, address) in enumerate(families):
                proto = "eth-switch" if family == "ethernet-switching" else family
                if i == 0:
                    logical = f"{iface.name}.{unit}"
                    row = f"{logical:<23} {admin:<5} {link:<4} {proto:<8} {address}"
                    lines.append(row.rstrip())
                else:
                    lines.append(f"{'':<40}{proto:<8} {address}".rstrip())
    return "\n".join(lines) + "\n"


def show_interfaces(state: JunosState, name: str | None) -> str | None:
    """``show interfaces [NAME]``; None when NAME does not exist."""
    chosen = [i for i in interfaces(state.committed) if name is None or i.name == name]
    if not chosen:
        return None
    out: list[str] = []
    for n, iface in enumerate(chosen):
        mac = mac_colon(mac_bytes(OUI, state.index, n + 1))
        enabled = "Disabled" if iface.disabled else "Enabled"  # ntc-templates wants one word
        link = "Up" if iface.up else "Down"
        out += [
            f"Physical interface: {iface.name}, {enabled}, Physical link is {link}",
            f"  Interface index: {650 + n}, SNMP ifIndex: {515 + n}",
        ]
        if iface.description:
            out.append(f"  Description: {iface.description}")
        out += [
            "  Link-level type: Ethernet, MTU: 1514, Link-mode: Full-duplex, Speed: 1000mbps,"
            " BPDU Error: None, Loop Detect PDU Error: None, MAC-REWRITE Error: None,"
            " Loopback: Disabled, Source filtering: Disabled, Flow control: Enabled,"
            " Auto-negotiation: Enabled, Remote fault: Online",
            "  Device flags   : Present Running",
            "  Interface flags: SNMP-Traps Internal: 0x4000",
            "  Link flags     : None",
            "  CoS queues     : 12 supported, 12 maximum usable queues",
            f"  Current address: {mac}, Hardware address: {mac}",
            f"  Last flapped   : {_stamp(state.booted_at + 120)} ({_ago(state.uptime())} ago)",
            "  Input rate     : 1200 bps (2 pps)",
            "  Output rate    : 800 bps (1 pps)",
            "  Active alarms  : None",
            "  Active defects : None",
            "  Interface transmit statistics: Disabled",
        ]
        for unit, families in iface.units.items():
            out += [
                "",
                f"  Logical interface {iface.name}.{unit} (Index {558 + n})"
                f" (SNMP ifIndex {517 + n})",
                f"    Flags: {'Up' if iface.up else 'Down'} SNMP-Traps 0x4000 Encapsulation: ENET2",
                "    Input packets : 0",
                "    Output packets: 0",
            ]
            for family, address in families:
                mtu = 1500 if family == "inet" else 1514
                out.append(f"    Protocol {family}, MTU: {mtu}")
                if address and "/" in address:
                    local = address.split("/")[0]
                    out += [
                        "      Flags: Sendbcast-pkt-to-re",
                        "      Addresses, Flags: Is-Preferred Is-Primary",
                        f"        Destination: {_network(address)}, Local: {local},"
                        f" Broadcast: {_broadcast(address)}",
                    ]
        out.append("")
    return "\n".join(out) + "\n"


def _network(address: str) -> str:
    import ipaddress

    return str(ipaddress.IPv4Interface(address).network)


def _broadcast(address: str) -> str:
    import ipaddress

    return str(ipaddress.IPv4Interface(address).network.broadcast_address)


def _stamp(when: float) -> str:
    return f"{dt.datetime.fromtimestamp(when, dt.UTC):%Y-%m-%d %H:%M:%S} UTC"


def _ago(seconds: float) -> str:
    total = int(seconds)
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    return f"{days}d {hours:02d}:{rest // 60:02d}"


def show_version(state: JunosState) -> str:
    """``show version``."""
    packages = [
        ("JUNOS OS Kernel 64-bit ", BUILD),
        ("JUNOS OS libs", BUILD),
        ("JUNOS OS runtime", BUILD),
        ("JUNOS OS time zone information", BUILD),
        ("JUNOS network stack and utilities", "20230405.040437_builder_junos_214_r3_s5"),
        ("JUNOS libs", "20230405.040437_builder_junos_214_r3_s5"),
        ("JUNOS runtime", "20230405.040437_builder_junos_214_r3_s5"),
        ("JUNOS Packet Forwarding Engine Support (EX Common)", "20230405.040437_builder"),
        ("JUNOS Routing Software Suite", "20230405.040437_builder_junos_214_r3_s5"),
    ]
    lines = [f"Hostname: {state.hostname}", f"Model: {MODEL}", f"Junos: {VERSION}"]
    lines += [f"{name} [{build}]" for name, build in packages]
    return "\n".join(lines) + "\n"


def show_chassis_hardware(state: JunosState) -> str:
    """``show chassis hardware``."""
    sn = serial("PE37", state.index, 12)
    psu = serial("1EDE", state.index, 11)
    pic = serial("MY37", state.index, 12)
    return (
        "Hardware inventory:\n"
        "Item             Version  Part number  Serial number     Description\n"
        f"Chassis                                {sn:<17} EX4300-24T\n"
        f"Routing Engine 0 REV 12   650-044930   {sn:<17} EX4300-24T\n"
        f"FPC 0            REV 12   650-044930   {sn:<17} EX4300-24T\n"
        "  CPU                     BUILTIN      BUILTIN           FPC CPU\n"
        "  PIC 0                   BUILTIN      BUILTIN           24x 10/100/1000 Base-T\n"
        f"  PIC 2          REV 06   611-063980   {pic:<17} 4x 10GE SFP+\n"
        f"Power Supply 0   REV 04   740-046873   {psu:<17} JPSU-350-AC-AFO-A\n"
        "Fan Tray 0                                               Fan Module, Airflow Out (AFO)\n"
        "Fan Tray 1                                               Fan Module, Airflow Out (AFO)\n"
    )


def show_system_uptime(state: JunosState) -> str:
    """``show system uptime``."""
    now = dt.datetime.now(dt.UTC)
    up = state.uptime()
    days, rest = divmod(int(up), 86400)
    clock = f"{now:%I:%M%p}".lstrip("0")
    return (
        f"Current time: {_stamp(now.timestamp())}\n"
        "Time Source:  NTP CLOCK \n"
        f"System booted: {_stamp(state.booted_at)} ({_ago(up)} ago)\n"
        f"Protocols started: {_stamp(state.booted_at + 90)} ({_ago(up - 90)} ago)\n"
        f"Last configured: {_stamp(state.last_commit)} ({_ago(now.timestamp() - state.last_commit)}"
        f" ago) by {state.last_user}\n"
        f"{clock}  up {days} days, {rest // 3600}:{rest % 3600 // 60:02d}, 1 user,"
        " load averages: 0.12, 0.08, 0.05\n"
    )


def show_vlans(state: JunosState) -> str:
    """``show vlans``."""
    vlans: dict[str, str] = {}
    members: dict[str, list[str]] = {}
    for statement in state.committed:
        parts = junoscfg.words(statement)
        if parts[:1] == ["vlans"] and len(parts) == 4 and parts[2] == "vlan-id":
            vlans[parts[1]] = parts[3]
        if parts[:1] == ["interfaces"] and "members" in parts:
            unit = parts[3] if len(parts) > 3 and parts[2] == "unit" else "0"
            members.setdefault(parts[-1], []).append(f"{parts[1]}.{unit}")
    up = {i.name for i in interfaces(state.committed) if i.up}
    lines = ["", "Routing instance        VLAN name             Tag          Interfaces"]
    for name, tag in sorted(vlans.items(), key=lambda kv: kv[0]):
        lines.append(f"default-switch          {name:<21} {tag:<12}")
        for member in members.get(name, []):
            star = "*" if member.split(".")[0] in up else ""
            lines.append(f"{'':<59}{member}{star}")
    return "\n".join([*lines, ""]) + "\n"


def configuration_text(
    eng: JunosEngine, statements: list[str], path: list[str], *, display_set: bool
) -> str:
    """``show configuration`` (or ``show`` in configuration mode) below ``path``."""
    state = eng.state
    chosen = list(statements)
    if state.config_size and not path:
        current = sum(len(s) + 8 for s in chosen)
        chosen += list(pad_lines(junos_filter, current, state.config_size, bang=""))
        chosen = [s for s in chosen if s]
    if display_set:
        prefix = " ".join(path)
        body = [
            f"set {s}" for s in chosen if not prefix or s == prefix or s.startswith(prefix + " ")
        ]
        return "\n".join(body) + "\n"
    lines = junoscfg.render(junoscfg.under(chosen, path))
    if not path and eng.mode == "op":
        head = [
            f"## Last commit: {_stamp(state.last_commit)} by {state.last_user}",
            f"version {VERSION};",
        ]
        lines = head + lines
    return "\n".join(lines) + "\n" if lines else ""

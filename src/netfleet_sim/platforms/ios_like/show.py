"""Show command output of Cisco IOS and IOS-XE (shapes parsed by ntc-templates)."""

from __future__ import annotations

import datetime as dt
import random
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from netfleet_sim.platforms.cmdtree import Invalid
from netfleet_sim.platforms.identity import mac_dotted, serial
from netfleet_sim.platforms.ios_like import config as cfg
from netfleet_sim.platforms.ios_like.view import (
    IfaceView,
    clock_text,
    interfaces,
    utc_now,
    vlans,
)
from netfleet_sim.platforms.padding import pad_lines

if TYPE_CHECKING:
    from netfleet_sim.platforms.ios_like.config import Config
    from netfleet_sim.platforms.ios_like.session import IosSession

_SHORT = {
    "GigabitEthernet": "Gi",
    "FastEthernet": "Fa",
    "TenGigabitEthernet": "Te",
    "TwentyFiveGigE": "Twe",
    "FortyGigabitEthernet": "Fo",
    "Port-channel": "Po",
    "Ethernet": "Et",
    "Loopback": "Lo",
    "Vlan": "Vl",
}


def short_name(name: str) -> str:
    """``GigabitEthernet1/0/1`` -> ``Gi1/0/1``."""
    for long, short in _SHORT.items():
        if name.startswith(long):
            return short + name[len(long) :]
    return name


def views(eng: IosSession) -> list[IfaceView]:
    """The device's interfaces."""
    flavor = eng.flavor
    return interfaces(eng.state.running, flavor.hardware, eng.state.index, switch=flavor.switch)


def config_body(eng: IosSession, config: Config) -> list[str]:
    """Rendered configuration lines with padding up to the device's configured size."""
    flavor = eng.flavor
    lines = list(cfg.render(config, indent=flavor.indent, bang=flavor.separator))
    size = eng.state.config_size
    if size:
        at = next((i for i, line in enumerate(lines) if line.startswith("line ")), len(lines))
        current = sum(len(line) + 1 for line in lines)
        pad = list(pad_lines(eng.flavor.pad_style, current, size))
        lines[at:at] = pad
    return lines


def stamp(when: float) -> str:
    """``10:22:31 UTC Fri Nov 27 2026``."""
    t = dt.datetime.fromtimestamp(when, dt.UTC)
    return f"{t:%H:%M:%S} UTC {t:%a} {t:%b} {t.day} {t:%Y}"


def _ios_config_text(eng: IosSession, config: Config, *, startup: bool) -> str:
    volatile = eng.volatile_config and not startup
    changed = time.time() if volatile else eng.state.last_change
    head = [f"! Last configuration change at {stamp(changed)} by {eng.username}"]
    if volatile:
        head.append(f"! NVRAM config last updated at {stamp(time.time())} by {eng.username}")
    lines = ["!", *head, "!", *config_body(eng, config)]
    if volatile:
        lines.append(f"ntp clock-period {random.randint(17_179_000, 17_180_999)}")
    lines.append("end")
    if eng.truncate_config and not startup:
        lines = lines[: eng.truncate_config]
    body = "\n".join(lines)
    size = len(body) + 1
    if startup:
        return f"Using {size} out of 524288 bytes\n{body}\n"
    return f"Building configuration...\n\nCurrent configuration : {size} bytes\n{body}\n\n"


def show_running(eng: IosSession, args: tuple[str, ...]) -> str:
    """``show running-config``."""
    return _ios_config_text(eng, eng.state.running, startup=False)


def interface_lines(eng: IosSession, args: tuple[str, ...]) -> list[str] | None:
    """The running-config stanza of the interface named by ``args`` (None if unknown)."""
    from netfleet_sim.platforms.ios_like.config_mode import canonical_interface

    name = canonical_interface(eng.flavor, "".join(args))
    stanza = cfg.find(eng.state.running, f"interface {name}") if name else None
    if stanza is None:
        return None
    return [stanza[0], *(eng.flavor.indent + c for c in stanza[1:])]


def no_such_interface(eng: IosSession) -> str:
    """The platform's invalid-input message for an unknown interface name."""
    return eng.error(Invalid(len("show running-config interface ")), "").output


def show_running_interface(eng: IosSession, args: tuple[str, ...]) -> str:
    """``show running-config interface NAME``."""
    lines = interface_lines(eng, args)
    if lines is None:
        return no_such_interface(eng)
    body = "\n".join([*lines, "end"])
    return (
        f"Building configuration...\n\nCurrent configuration : {len(body) + 1} bytes\n!\n{body}\n\n"
    )


def show_startup(eng: IosSession, args: tuple[str, ...]) -> str:
    """``show startup-config``."""
    return _ios_config_text(eng, eng.state.startup_config(), startup=True)


def show_ip_int_brief(eng: IosSession, args: tuple[str, ...]) -> str:
    """``show ip interface brief``."""
    lines = [f"{'Interface':<23}{'IP-Address':<16}OK? Method Status                Protocol"]
    for v in views(eng):
        method = "NVRAM" if v.ip else "unset"
        lines.append(
            f"{v.name:<22} {v.ip or 'unassigned':<15} YES {method:<6} {v.status:<21} {v.protocol}"
        )
    return "\n".join(lines) + "\n"


def show_interfaces(eng: IosSession, args: tuple[str, ...]) -> str:
    """``show interfaces [NAME]``."""
    from netfleet_sim.platforms.ios_like.config_mode import canonical_interface

    chosen = views(eng)
    if args:
        name = canonical_interface(eng.flavor, "".join(args))
        chosen = [v for v in chosen if v.name == name]
        if not chosen:
            return eng.error(Invalid(len("show interfaces ")), "").output
    return "".join(_interface_block(v, i) for i, v in enumerate(chosen))


def _interface_block(v: IfaceView, i: int) -> str:
    mac = mac_dotted(v.mac)
    suffix = " (connected)" if v.switchport and v.protocol == "up" else ""
    if v.switchport and v.protocol == "down":
        suffix = " (disabled)" if v.shutdown else " (notconnect)"
    kind = "Loopback" if v.name.startswith("Loopback") else "Gigabit Ethernet"
    if v.name.startswith("Vlan"):
        kind = "EtherSVI"
    lines = [
        f"{v.name} is {v.status}, line protocol is {v.protocol}{suffix} ",
        f"  Hardware is {kind}, address is {mac} (bia {mac})",
    ]
    if v.description:
        lines.append(f"  Description: {v.description}")
    if v.ip:
        lines.append(f"  Internet address is {v.ip}/{v.prefix}")
    bw = "8000000" if kind == "Loopback" else "1000000"
    packets = 1000 + i * 97 if v.protocol == "up" else 0
    lines += [
        f"  MTU {v.mtu} bytes, BW {bw} Kbit/sec, DLY 10 usec, ",
        "     reliability 255/255, txload 1/255, rxload 1/255",
        "  Encapsulation ARPA, loopback not set",
        "  Keepalive set (10 sec)",
    ]
    if v.physical:
        speed = "1000Mb/s" if v.protocol == "up" else "Auto-speed"
        duplex = "Full-duplex" if v.protocol == "up" else "Auto-duplex"
        lines += [
            f"  {duplex}, {speed}, media type is 10/100/1000BaseTX",
            "  input flow-control is off, output flow-control is unsupported ",
        ]
    lines += [
        "  ARP type: ARPA, ARP Timeout 04:00:00",
        "  Last input 00:00:01, output 00:00:00, output hang never",
        '  Last clearing of "show interface" counters never',
        "  Input queue: 0/75/0/0 (size/max/drops/flushes); Total output drops: 0",
        "  Queueing strategy: fifo",
        "  Output queue: 0/40 (size/max)",
        f"  5 minute input rate {packets * 3} bits/sec, {packets // 500} packets/sec",
        f"  5 minute output rate {packets * 2} bits/sec, {packets // 700} packets/sec",
        f"     {packets * 211} packets input, {packets * 211 * 87} bytes, 0 no buffer",
        f"     Received {packets * 3} broadcasts (0 IP multicasts)",
        "     0 runts, 0 giants, 0 throttles ",
        "     0 input errors, 0 CRC, 0 frame, 0 overrun, 0 ignored",
        f"     {packets * 157} packets output, {packets * 157 * 93} bytes, 0 underruns",
        "     0 output errors, 0 collisions, 1 interface resets",
        "     0 unknown protocol drops",
        "     0 output buffer failures, 0 output buffers swapped out",
    ]
    return "\n".join(lines) + "\n"


def show_int_status(eng: IosSession, args: tuple[str, ...]) -> str:
    """``show interfaces status``."""
    lines = [
        "",
        "Port         Name               Status       Vlan       Duplex  Speed Type ",
    ]
    for v in views(eng):
        if not v.physical:
            continue
        status = "disabled" if v.shutdown else ("connected" if v.connected else "notconnect")
        vlan = "trunk" if v.trunk else (str(v.access_vlan) if v.switchport else "routed")
        duplex, speed = ("a-full", "a-1000") if status == "connected" else ("auto", "auto")
        lines.append(
            f"{short_name(v.name):<13}{v.description[:18]:<19}{status:<13}{vlan:<11}"
            f"{duplex:>6} {speed:>6} 10/100/1000BaseTX"
        )
    return "\n".join(lines) + "\n"


def show_int_description(eng: IosSession, args: tuple[str, ...]) -> str:
    """``show interfaces description``."""
    lines = [f"{'Interface':<31}{'Status':<31}{'Protocol':<9}Description"]
    for v in views(eng):
        status = "admin down" if v.shutdown else v.status
        lines.append(f"{short_name(v.name):<31}{status:<31}{v.protocol:<9}{v.description}")
    return "\n".join(lines) + "\n"


def vlan_ports_table(
    eng: IosSession, short: Callable[[str], str] = short_name
) -> tuple[dict[int, str], list[str]]:
    """The configured VLANs, and the ``VLAN Name Status Ports`` table of ``show vlan``
    (access ports named by ``short``, four to a line)."""
    members: dict[int, list[str]] = {}
    for v in views(eng):
        if v.switchport and not v.trunk:
            members.setdefault(v.access_vlan, []).append(short(v.name))
    table = vlans(eng.state.running)
    lines = [
        "",
        "VLAN Name                             Status    Ports",
        "---- -------------------------------- --------- -------------------------------",
    ]
    for vid, name in table.items():
        ports = members.get(vid, [])
        chunks = [", ".join(ports[i : i + 4]) for i in range(0, len(ports), 4)] or [""]
        lines.append(f"{vid:<4} {name:<32} {'active':<9} {chunks[0]}".rstrip())
        lines.extend(f"{'':<48}{chunk}" for chunk in chunks[1:])
    return table, lines


def show_vlan(eng: IosSession, args: tuple[str, ...]) -> str:
    """``show vlan`` (with the VLAN type table) and ``show vlan brief``."""
    table, lines = vlan_ports_table(eng)
    defaults = ("fddi-default", "token-ring-default", "fddinet-default", "trnet-default")
    for vid, name in zip(range(1002, 1006), defaults, strict=True):
        lines.append(f"{vid:<4} {name:<32} act/unsup ")
    if args and args[0] == "brief":
        return "\n".join(lines) + "\n"
    lines += [
        "",
        "VLAN Type  SAID       MTU   Parent RingNo BridgeNo Stp  BrdgMode Trans1 Trans2",
        "---- ----- ---------- ----- ------ ------ -------- ---- -------- ------ ------",
    ]
    for vid in table:
        said = 100000 + vid
        dashes = "-      -      -        -    -       "
        lines.append(f"{vid:<4} enet  {said:<10} 1500  {dashes} 0      0")
    lines += [
        "",
        "Remote SPAN VLANs",
        "-" * 78,
        "",
        "",
        "Primary Secondary Type              Ports",
    ]
    lines.append("------- --------- ----------------- ------------------------------------------")
    return "\n".join(lines) + "\n"


def show_vlan_brief(eng: IosSession, args: tuple[str, ...]) -> str:
    """``show vlan brief``."""
    return show_vlan(eng, ("brief",))


def show_inventory(eng: IosSession, args: tuple[str, ...]) -> str:
    """``show inventory``."""
    hw = eng.flavor.hardware
    sn = serial(hw.serial_prefix, eng.state.index)
    return f'NAME: "1", DESCR: "{hw.descr}"\nPID: {hw.pid:<18}, VID: V03  , SN: {sn}\n\n'


def show_clock(eng: IosSession, args: tuple[str, ...]) -> str:
    """``show clock``."""
    return clock_text(utc_now()) + "\n"


def show_hostname(eng: IosSession, args: tuple[str, ...]) -> str:
    """``show hostname`` (NX-OS, ASA)."""
    return eng.state.hostname + "\n"


def show_users(eng: IosSession, args: tuple[str, ...]) -> str:
    """``show users``."""
    return (
        "    Line       User       Host(s)              Idle       Location\n"
        f"*  2 vty 0     {eng.username:<10} idle                 00:00:00 127.0.0.1\n\n"
        "  Interface    User               Mode         Idle     Peer Address\n\n"
    )


def show_privilege(eng: IosSession, args: tuple[str, ...]) -> str:
    """``show privilege``."""
    return f"Current privilege level is {1 if eng.level == 'user' else 15}\n"


IOS_SHOWS = {
    "privilege": show_privilege,
    "running-config": show_running,
    "running-config interface <rest>": show_running_interface,
    "startup-config": show_startup,
    "ip interface brief": show_ip_int_brief,
    "interfaces": show_interfaces,
    "interfaces <rest>": show_interfaces,
    "interfaces status": show_int_status,
    "interfaces description": show_int_description,
    "vlan": show_vlan,
    "vlan brief": show_vlan_brief,
    "inventory": show_inventory,
    "clock": show_clock,
    "users": show_users,
}

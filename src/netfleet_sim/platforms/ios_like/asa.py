"""Cisco ASA (ASA 5516-X, 9.16) platform data and show output."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from netfleet_sim.contract import Pager
from netfleet_sim.platforms.identity import ipv4_mgmt, mac_bytes, mac_dotted, serial, split_uptime
from netfleet_sim.platforms.ios_like import show
from netfleet_sim.platforms.ios_like import vocab as vocab_data
from netfleet_sim.platforms.ios_like.config import Config
from netfleet_sim.platforms.ios_like.ios import BANNER
from netfleet_sim.platforms.ios_like.state import IosFlavor, ShowFn
from netfleet_sim.platforms.ios_like.view import Hardware, IfaceView, clock_text, utc_now
from netfleet_sim.platforms.padding import asa_acl

if TYPE_CHECKING:
    from netfleet_sim.platforms.ios_like.session import IosSession

ASA_HW = Hardware(
    pid="ASA5516",
    descr="ASA 5516-X with FirePOWER services, 8GE, AC, DES",
    serial_prefix="JAD",
    oui=(0x00, 0x35, 0x1A),
    connected=3,
    version="9.16(4)",
)
PORTS = [f"GigabitEthernet1/{n}" for n in range(1, 9)]
ASA_GLOBAL: vocab_data.Vocab = {
    **{k: vocab_data.GLOBAL[k] for k in ("hostname", "interface", "logging", "username", "enable")},
    "snmp-server": vocab_data.GLOBAL["snmp-server"],
    "ntp": 1, "names": 0, "name": 2, "object": 2, "object-group": 2, "access-list": 2,
    "access-group": 3, "route": 4, "ssh": 1, "http": 1, "telnet": 1, "aaa": 1, "crypto": 1,
    "dns": 1, "domain-name": 1, "same-security-traffic": 1, "pager": 1, "mtu": 2, "icmp": 1,
    "arp": 1, "nat": 1, "timeout": 1, "service-policy": 1, "policy-map": 1, "class-map": 1,
    "prompt": 1, "banner": {"motd": 1, "login": 1, "exec": 1, "asdm": 1}, "failover": 0,
    "threat-detection": 1, "sysopt": 1, "clock": 1, "passwd": 1, "group-policy": 1,
    "tunnel-group": 1, "webvpn": 0, "dhcpd": 1, "license": 1, "call-home": 0, "ftp": 1,
    "user-identity": 1, "dynamic-access-policy-record": 1, "console": 1,
}  # fmt: skip
ASA_INTERFACE: vocab_data.Vocab = {
    "nameif": 1,
    "security-level": 1,
    "ip": {"address": 1},
    "shutdown": 0,
    "description": 1,
    "speed": 1,
    "duplex": 1,
    "management-only": 0,
    "vlan": 1,
    "channel-group": 1,
    "no": 0,
}


def asa_config(hostname: str, index: int) -> Config:
    """Factory configuration of the simulated ASA."""
    roles = {
        "GigabitEthernet1/1": ("outside", "0", f"203.0.113.{index % 250 + 2} 255.255.255.0"),
        "GigabitEthernet1/2": ("inside", "100", "10.10.0.1 255.255.255.0"),
    }
    config: Config = [
        [f"hostname {hostname}"],
        ["domain-name example.net"],
        ["enable password ***** pbkdf2"],
        ["names"],
        ["no mac-address auto"],
    ]
    for port in PORTS:
        if port in roles:
            name, level, ip = roles[port]
            config.append(
                [
                    f"interface {port}",
                    f"nameif {name}",
                    f"security-level {level}",
                    f"ip address {ip}",
                ]
            )
        else:
            config.append(
                [f"interface {port}", "shutdown", "no nameif", "no security-level", "no ip address"]
            )
    config += [
        [
            "interface Management1/1",
            "management-only",
            "nameif management",
            "security-level 100",
            f"ip address {ipv4_mgmt(index)} 255.0.0.0",
        ],
        ["ftp mode passive"],
        ["pager lines 24"],
        ["logging enable"],
        ["logging host inside 10.255.0.10"],
        ["mtu outside 1500"],
        ["mtu inside 1500"],
        ["route outside 0.0.0.0 0.0.0.0 203.0.113.1 1"],
        ["snmp-server community *****"],
        ["ntp server 10.255.0.1 source inside"],
        ["username admin password ***** pbkdf2 privilege 15"],
        [f"banner motd {BANNER}"],
        ["ssh 10.0.0.0 255.0.0.0 management"],
        ["ssh version 2"],
    ]
    return config


def _views(eng: IosSession) -> list[IfaceView]:
    return show.views(eng)


def show_version(eng: IosSession, args: tuple[str, ...]) -> str:
    """``show version``."""
    hw = eng.flavor.hardware
    idx = eng.state.index
    _, weeks, days, hours, _ = split_uptime(eng.state.uptime())
    change = dt.datetime.fromtimestamp(eng.state.last_change, dt.UTC)
    lines = [
        "",
        f"Cisco Adaptive Security Appliance Software Version {hw.version} ",
        "Firepower Extensible Operating System Version 2.10(1.162)",
        "Device Manager Version 7.16(1)",
        "",
        "Compiled on Thu 18-Aug-22 19:20 GMT by builders",
        'System image file is "disk0:/asa9-16-4-lfbff-k8.SPA"',
        'Config file at boot was "startup-config"',
        "",
        f"{eng.state.hostname} up {weeks * 7 + days} days {hours} hours",
        "",
        f"Hardware:   {hw.pid}, 8192 MB RAM, CPU Atom C2000 series 2416 MHz, 1 CPU (8 cores)",
        "Internal ATA Compact Flash, 8192MB",
        "BIOS Flash M25P64 @ 0xfed01000, 16384KB",
        "",
        "Encryption hardware device : Cisco ASA Crypto on-board accelerator (revision 0x1)",
        "                             Number of accelerators: 1",
        "",
    ]
    for n, v in enumerate(_views(eng), start=1):
        mac = mac_dotted(mac_bytes(hw.oui, idx, n))
        lines.append(f"{n:2d}: Ext: {v.name:<20}: address is {mac}, irq 255")
    lines += [
        "",
        "Licensed features for this platform:",
        "Maximum Physical Interfaces       : Unlimited      perpetual",
        "Maximum VLANs                     : 150            perpetual",
        "Inside Hosts                      : Unlimited      perpetual",
        "Failover                          : Active/Active  perpetual",
        "Encryption-DES                    : Enabled        perpetual",
        "Encryption-3DES-AES               : Enabled        perpetual",
        "Security Contexts                 : 2              perpetual",
        "Carrier                           : Disabled       perpetual",
        "AnyConnect Premium Peers          : 4              perpetual",
        "Other VPN Peers                   : 300            perpetual",
        "Total VPN Peers                   : 300            perpetual",
        "Botnet Traffic Filter             : Disabled       perpetual",
        "",
        f"This platform has an {hw.pid} Security Plus license.",
        "",
        f"Serial Number: {serial(hw.serial_prefix, idx)}",
        "Running Permanent Activation Key: 0x4a1c5f6e 0xd4b1a2c3 0x8c0e1f2a 0x9e3c7d10 0x0d1f2e3c",
        "Configuration register is 0x1",
        "Image type          : Release",
        "Key Version         : A",
        f"Configuration last modified by {eng.username} at {clock_text(change)}",
    ]
    return "\n".join(lines) + "\n"


def _config_text(eng: IosSession, config: Config) -> str:
    hw = eng.flavor.hardware
    head = [
        ": Saved",
        "",
        ":",
        f": Serial Number: {serial(hw.serial_prefix, eng.state.index)}",
        f": Hardware:   {hw.pid}, 8192 MB RAM, CPU Atom C2000 series 2416 MHz, 1 CPU (8 cores)",
        ":",
        f"ASA Version {hw.version} ",
        "!",
    ]
    return "\n".join([*head, *show.config_body(eng, config), ": end"]) + "\n"


def show_running(eng: IosSession, args: tuple[str, ...]) -> str:
    """``show running-config``."""
    return _config_text(eng, eng.state.running)


def show_running_interface(eng: IosSession, args: tuple[str, ...]) -> str:
    """``show running-config interface NAME``."""
    lines = show.interface_lines(eng, args)
    return show.no_such_interface(eng) if lines is None else "\n".join(["!", *lines]) + "\n"


def show_startup(eng: IosSession, args: tuple[str, ...]) -> str:
    """``show startup-config``."""
    return _config_text(eng, eng.state.startup_config())


def show_int_ip_brief(eng: IosSession, args: tuple[str, ...]) -> str:
    """``show interface ip brief``."""
    lines = ["Interface                  IP-Address      OK? Method Status                Protocol"]
    for v in _views(eng):
        method = "CONFIG" if v.ip else "unset "
        lines.append(
            f"{v.name:<26} {v.ip or 'unassigned':<15} YES {method} {v.status:<21} {v.protocol}"
        )
    return "\n".join(lines) + "\n"


def show_inventory(eng: IosSession, args: tuple[str, ...]) -> str:
    """``show inventory``."""
    hw = eng.flavor.hardware
    idx = eng.state.index
    return (
        f'Name: "Chassis", DESCR: "{hw.descr}"\n'
        f"PID: {hw.pid + '-X':<18}, VID: V05     , SN: {serial(hw.serial_prefix, idx)}\n\n"
        'Name: "Storage Device 1", DESCR: "ASA 5516-X SSD"\n'
        f"PID: ASA5516-SSD       , VID: N/A     , SN: {serial('MSA', idx)}\n\n"
    )


def show_clock(eng: IosSession, args: tuple[str, ...]) -> str:
    """``show clock``."""
    return clock_text(utc_now()) + "\n"


SHOWS: dict[str, ShowFn] = {
    "version": show_version,
    "running-config": show_running,
    "running-config interface <rest>": show_running_interface,
    "startup-config": show_startup,
    "interface ip brief": show_int_ip_brief,
    "inventory": show_inventory,
    "clock": show_clock,
    "hostname": show.show_hostname,
}

ASA = IosFlavor(
    name="cisco_asa",
    hardware=ASA_HW,
    base_config=asa_config,
    shows=SHOWS,
    user_shows=frozenset({"version", "clock", "hostname"}),
    iface_types=("GigabitEthernet", "Management", "Port-channel", "Redundant", "BVI"),
    pager=Pager(prompt="<--- More --->", lines=24, erase="\r" + " " * 14 + "\r"),
    paging_off=("terminal pager <arg>", "terminal pager lines <arg>"),
    extra_exec={"configure": ""},
    banner_line=True,
    prompt_space=True,
    invalid="ERROR: % Invalid input detected at '^' marker.",
    incomplete="ERROR: % Incomplete command",
    ambiguous='ERROR: % Ambiguous command:  "{line}"',
    error_blank_line=False,
    enable_attempts=1,
    enable_asks_blank=True,
    bad_secret="Invalid password",
    global_vocab=ASA_GLOBAL,
    iface_vocab=ASA_INTERFACE,
    submodes={"interface": "if", "object network": "network-object", "policy-map": "pmap"},
    show_in_config=True,
    copy_question="Source filename [running-config]? ",
    save_output=(
        "Building configuration...\nCryptochecksum: 3c2a8a0b 0f6d3c51 8f3c3b73 1e2b8a8c \n\n"
        "5234 bytes copied in 0.140 secs\n[OK]\n"
    ),
    copy_output=(
        "\nCryptochecksum: 3c2a8a0b 0f6d3c51 8f3c3b73 1e2b8a8c \n\n"
        "5234 bytes copied in 0.140 secs\n"
    ),
    pad_style=asa_acl,
    config_banner="",
)

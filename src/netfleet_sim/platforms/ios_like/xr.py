"""Cisco IOS-XR (IOS-XRv 9000, 7.x) platform data and show output."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING

from netfleet_sim.platforms.identity import cisco_uptime, ipv4_mgmt, serial
from netfleet_sim.platforms.ios_like import show, xr_commit
from netfleet_sim.platforms.ios_like import vocab as vocab_data
from netfleet_sim.platforms.ios_like.config import Config
from netfleet_sim.platforms.ios_like.ios import BANNER, FAKE_SECRET, MORE
from netfleet_sim.platforms.ios_like.state import IosFlavor, ShowFn
from netfleet_sim.platforms.ios_like.view import Hardware, utc_now
from netfleet_sim.platforms.padding import xr_acl

if TYPE_CHECKING:
    from netfleet_sim.platforms.ios_like.session import IosSession

XR_HW = Hardware(
    pid="R-IOSXRV9000-CC",
    descr="Cisco IOS-XRv 9000 Centralized Virtual Router",
    serial_prefix="2A0",
    oui=(0x52, 0x54, 0x00),
    connected=4,
    version="7.5.2",
)
PORTS = [f"GigabitEthernet0/0/0/{n}" for n in range(8)]
XR_GLOBAL: vocab_data.Vocab = {
    **vocab_data.GLOBAL,
    "domain": 1,
    "ipv4": 1,
    "ssh": 1,
    "grpc": 0,
    "netconf-yang": 1,
    "telemetry": 1,
    "prefix-set": 1,
    "route-policy": 1,
    "explicit-path": 1,
    "mpls": 1,
    "segment-routing": 0,
    "l2vpn": 0,
    "multicast-routing": 0,
    "xml": 1,
    "lpts": 1,
}
XR_INTERFACE: vocab_data.Vocab = {**vocab_data.INTERFACE, "ipv4": {"address": 1, "mtu": 1}}


def xr_config(hostname: str, index: int) -> Config:
    """Factory configuration of the simulated XRv 9000."""
    config: Config = [
        [f"hostname {hostname}"],
        ["domain name example.net"],
        ["username admin", "group root-lr", "group cisco-support", f"secret 10 {FAKE_SECRET[2:]}"],
        [f"banner motd ^C\n{BANNER}\n^C"],
        ["logging 10.255.0.10 vrf default severity info"],
        ["ntp server 10.255.0.1"],
        ["interface Loopback0", "ipv4 address 10.255.255.1 255.255.255.255"],
        ["interface MgmtEth0/RP0/CPU0/0", f"ipv4 address {ipv4_mgmt(index)} 255.0.0.0"],
    ]
    for n, port in enumerate(PORTS):
        config.append(
            [f"interface {port}"] if n < XR_HW.connected else [f"interface {port}", "shutdown"]
        )
    config += [
        ["router static", "address-family ipv4 unicast", " 0.0.0.0/0 10.0.0.254", "!"],
        ["snmp-server community public RO"],
        ["ssh server v2"],
        ["ssh server vrf default"],
    ]
    return config


def stamped(fn: Callable[[IosSession, tuple[str, ...]], str]) -> ShowFn:
    """Prefix output with the timestamp line IOS-XR prints before every show command."""

    def run(eng: IosSession, args: tuple[str, ...]) -> str:
        now = utc_now()
        stamp = f"{now:%a %b} {now.day:2d} {now:%H:%M:%S}.{now.microsecond // 1000:03d} UTC\n"
        return stamp + fn(eng, args)

    return run


def show_version(eng: IosSession, args: tuple[str, ...]) -> str:
    """``show version``."""
    hw = eng.flavor.hardware
    uptime = cisco_uptime(eng.state.uptime()).replace(",", "")
    return f"""\
Cisco IOS XR Software, Version {hw.version}
Copyright (c) 2013-2022 by Cisco Systems, Inc.

Build Information:
 Built By     : ingunawa
 Built On     : Tue Jul 19 05:57:24 PDT 2022
 Built Host   : iox-ucs-032
 Workspace    : /auto/srcarchive15/prod/{hw.version}/xrv9k/ws
 Version      : {hw.version}
 Location     : /opt/cisco/XR/packages/
 Label        : {hw.version}

cisco IOS-XRv 9000 () processor
System uptime is {uptime}

"""


def _config_text(eng: IosSession, config: Config) -> str:
    change = dt.datetime.fromtimestamp(eng.state.last_change, dt.UTC)
    head = [
        "Building configuration...",
        f"!! IOS XR Configuration {eng.flavor.hardware.version}",
        f"!! Last configuration change at {change:%a %b %d %H:%M:%S %Y} by {eng.username}",
        "!",
    ]
    return "\n".join([*head, *show.config_body(eng, config), "end"]) + "\n\n"


def show_running(eng: IosSession, args: tuple[str, ...]) -> str:
    """``show running-config``."""
    return _config_text(eng, eng.state.running)


def show_running_interface(eng: IosSession, args: tuple[str, ...]) -> str:
    """``show running-config interface NAME``."""
    lines = show.interface_lines(eng, args)
    if lines is None:
        return "% No such configuration item(s)\n\n"
    return "\n".join([*lines, "!"]) + "\n\n"


def show_configuration(eng: IosSession, args: tuple[str, ...]) -> str:
    """``show configuration``: the uncommitted changes of this session."""
    changes = xr_commit.diff_lines(eng.state.running, eng.candidate or eng.state.running)
    head = ["Building configuration...", f"!! IOS XR Configuration {eng.flavor.hardware.version}"]
    return "\n".join([*head, *changes, "end"]) + "\n\n"


def show_configuration_merge(eng: IosSession, args: tuple[str, ...]) -> str:
    """``show configuration merge``: the whole candidate configuration."""
    return _config_text(eng, eng.candidate or eng.state.running)


def show_commit_changes_diff(eng: IosSession, args: tuple[str, ...]) -> str:
    """``show commit changes diff``: uncommitted changes with ``+``/``-`` markers."""
    diff = xr_commit.diff_markers(eng.state.running, eng.candidate or eng.state.running)
    head = ["Building configuration...", "!! IOS XR Configuration " + eng.flavor.hardware.version]
    return "\n".join([*head, *diff, "end"]) + "\n\n"


def show_commit_list(eng: IosSession, args: tuple[str, ...]) -> str:
    """``show configuration commit list``."""
    lines = [
        "SNo. Label/ID              User      Line                Client      Time Stamp",
        "~~~~ ~~~~~~~~              ~~~~      ~~~~                ~~~~~~      ~~~~~~~~~~",
    ]
    stamp = dt.datetime.fromtimestamp(eng.state.last_change, dt.UTC)
    for n in range(eng.state.commits, 0, -1):
        lines.append(
            f"{eng.state.commits - n + 1:<4} {1000000000 + n:<21} {eng.username:<9} "
            f"vty0:node0_RP0_CPU0 CLI         {stamp:%a %b %d %H:%M:%S %Y}"
        )
    return "\n".join(lines) + "\n"


def show_ip_int_brief(eng: IosSession, args: tuple[str, ...]) -> str:
    """``show ip interface brief``."""
    lines = ["", "Interface                      IP-Address      Status          Protocol Vrf-Name"]
    for v in show.views(eng):
        status = "Shutdown" if v.shutdown else v.status.capitalize()
        lines.append(
            f"{v.name:<30} {v.ip or 'unassigned':<15} {status:<15} "
            f"{v.protocol.capitalize():<8} default"
        )
    return "\n".join(lines) + "\n"


def show_inventory(eng: IosSession, args: tuple[str, ...]) -> str:
    """``show inventory``."""
    idx = eng.state.index
    items = [
        (
            "0/0",
            "Cisco IOS-XRv 9000 Centralized Line Card",
            "R-IOSXRV9000-LC-C",
            serial("2A1", idx),
        ),
        (
            "0/RP0",
            "Cisco IOS-XRv 9000 Centralized Virtual Router",
            "R-IOSXRV9000-RP-C",
            serial("2A2", idx),
        ),
        ("Rack 0", eng.flavor.hardware.descr, eng.flavor.hardware.pid, serial("2A0", idx)),
    ]
    return "".join(
        f'NAME: "{name}", DESCR: "{descr}"\nPID: {pid:<18}, VID: V01, SN: {sn}\n\n'
        for name, descr, pid, sn in items
    )


def show_clock(eng: IosSession, args: tuple[str, ...]) -> str:
    """``show clock``."""
    now = utc_now()
    return f"{now:%H:%M:%S}.{now.microsecond // 1000:03d} UTC {now:%a %b} {now.day} {now:%Y}\n"


SHOWS: dict[str, ShowFn] = {
    "version": stamped(show_version),
    "running-config": stamped(show_running),
    "running-config interface <rest>": stamped(show_running_interface),
    "configuration": stamped(show_configuration),
    "configuration merge": stamped(show_configuration_merge),
    "configuration commit list": stamped(show_commit_list),
    "commit changes diff": stamped(show_commit_changes_diff),
    "configuration changes": stamped(show_configuration),
    "configuration changes diff": stamped(show_commit_changes_diff),
    "ip interface brief": stamped(show_ip_int_brief),
    "ipv4 interface brief": stamped(show_ip_int_brief),
    "inventory": stamped(show_inventory),
    "clock": show_clock,
    "users": stamped(show.show_users),
}

XR = IosFlavor(
    name="cisco_xr",
    hardware=XR_HW,
    base_config=xr_config,
    shows=SHOWS,
    user_shows=frozenset(SHOWS),
    iface_types=("Loopback", "MgmtEth", "GigabitEthernet", "TenGigE", "Bundle-Ether", "BVI"),
    pager=MORE,
    paging_off=("terminal length <arg>",),
    extra_exec={
        "terminal exec prompt no-timestamp": "noop",
        "commit": "",
        "configure": "configure",
    },
    login_privileged=True,
    prompt_prefix="RP/0/RP0/CPU0:",
    error_blank_line=False,
    global_vocab=XR_GLOBAL,
    iface_vocab=XR_INTERFACE,
    submodes={
        "interface": "if",
        "router static": "static",
        "router bgp": "bgp",
        "router ospf": "ospf",
        "line": "line",
        "ipv4 access-list": "ipv4-acl",
        "route-policy": "rpl",
        "vrf": "vrf",
    },
    candidate=True,
    show_in_config=True,
    write_memory=False,
    copy_save=False,
    pad_style=xr_acl,
    config_banner="",
)

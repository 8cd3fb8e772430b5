"""Cisco IOS (Catalyst 3560-CX) and IOS-XE (Catalyst 9300) platform data."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING

from netfleet_sim.contract import Pager
from netfleet_sim.platforms.identity import cisco_uptime, ipv4_mgmt, mac_bytes, mac_colon, serial
from netfleet_sim.platforms.ios_like import rollback, show
from netfleet_sim.platforms.ios_like import vocab as vocab_data
from netfleet_sim.platforms.ios_like.config import Config
from netfleet_sim.platforms.ios_like.state import IosFlavor, ShowFn
from netfleet_sim.platforms.ios_like.view import Hardware

if TYPE_CHECKING:
    from netfleet_sim.platforms.ios_like.session import IosSession

MORE = Pager(prompt=" --More-- ", lines=24, erase="\b" * 10 + " " * 10 + "\b" * 10)
BANNER = "*** Authorized access only. Activity on this device is monitored. ***"
FAKE_SECRET = "9 $9$nhEmQVczB7dqsO$X.HsgL6x1il0RxkOSSvyQYwucySCt7qFm4v7pqCxkKM"

IOS_HW = Hardware(
    pid="WS-C3560CX-8PC-S",
    descr="WS-C3560CX-8PC-S",
    serial_prefix="FOC",
    oui=(0x00, 0x1E, 0xBD),
    connected=4,
    version="15.2(7)E4",
)
XE_HW = Hardware(
    pid="C9300-24T",
    descr="C9300-24T",
    serial_prefix="FCW",
    oui=(0x70, 0x0B, 0x4F),
    connected=6,
    version="17.9.4a",
)

IOS_SUBMODES = {
    "interface": "if",
    "vlan": "vlan",
    "line": "line",
    "router": "router",
    "ip access-list extended": "ext-nacl",
    "ip access-list standard": "std-nacl",
    "route-map": "route-map",
    "class-map": "cmap",
    "policy-map": "pmap",
    "vrf definition": "vrf",
    "control-plane": "cp",
    "redundancy": "red",
    "archive": "archive",
    "key chain": "keychain",
}


def _common_tail() -> Config:
    return [
        ["ip ssh version 2"],
        ["logging host 10.255.0.10"],
        ["snmp-server community public RO"],
        ["snmp-server location DC1 row 4"],
        ["ntp server 10.255.0.1"],
        [f"banner motd ^C\n{BANNER}\n^C"],
        ["line con 0", "exec-timeout 15 0", "logging synchronous"],
        ["line vty 0 4", "exec-timeout 15 0", "login local", "transport input ssh"],
        ["line vty 5 15", "login local", "transport input ssh"],
    ]


def _switch_config(hostname: str, index: int, version: str, ports: list[str]) -> Config:
    head: Config = [
        [f"version {version}"],
        ["no service pad"],
        ["service timestamps debug datetime msec"],
        ["service timestamps log datetime msec"],
        ["service password-encryption"],
        [f"hostname {hostname}"],
        ["boot-start-marker"],
        ["boot-end-marker"],
        [f"enable secret {FAKE_SECRET}"],
        [f"username admin privilege 15 secret {FAKE_SECRET}"],
        ["no aaa new-model"],
        ["ip domain-name example.net"],
        ["vtp mode transparent"],
        ["spanning-tree mode rapid-pvst"],
        ["spanning-tree extend system-id"],
        ["vlan 10", "name USERS"],
        ["vlan 20", "name VOICE"],
    ]
    ifaces: Config = []
    access = [p for p in ports if p != "GigabitEthernet0/0"][:2]
    for port in ports:
        stanza = [f"interface {port}"]
        if port in access:
            stanza.append("switchport access vlan 10")
            stanza.append("switchport mode access")
        ifaces.append(stanza)
    ifaces.append(["interface Vlan1", f"ip address {ipv4_mgmt(index)} 255.0.0.0"])
    tail: Config = [["ip default-gateway 10.0.0.254"], ["no ip http server"]]
    return [*head, *ifaces, *tail, *_common_tail()]


def ios_config(hostname: str, index: int) -> Config:
    """Factory configuration of the simulated Catalyst 3560-CX."""
    ports = [f"GigabitEthernet1/0/{n}" for n in range(1, 11)]
    return _switch_config(hostname, index, "15.2", ports)


def xe_config(hostname: str, index: int) -> Config:
    """Factory configuration of the simulated Catalyst 9300."""
    ports = [f"GigabitEthernet1/0/{n}" for n in range(1, 25)]
    ports += [f"TenGigabitEthernet1/1/{n}" for n in range(1, 5)]
    mgmt = ["interface GigabitEthernet0/0", "vrf forwarding Mgmt-vrf", "no ip address"]
    ports.insert(0, "GigabitEthernet0/0")
    config = _switch_config(hostname, index, "17.9", ports)
    at = next(i for i, s in enumerate(config) if s[0] == mgmt[0])
    config[at] = mgmt
    return config


def _since_boot(eng: IosSession) -> tuple[str, str]:
    up = eng.state.uptime()
    booted = dt.datetime.fromtimestamp(eng.state.booted_at, dt.UTC)
    restarted = f"{booted:%H:%M:%S} UTC {booted:%a} {booted:%b} {booted.day} {booted:%Y}"
    return cisco_uptime(up), restarted


def ios_version(eng: IosSession, args: tuple[str, ...]) -> str:
    """``show version`` of a Catalyst 3560-CX running IOS 15.2."""
    hw = eng.flavor.hardware
    sn = serial(hw.serial_prefix, eng.state.index)
    mac = mac_colon(mac_bytes(hw.oui, eng.state.index)).upper()
    uptime, restarted = _since_boot(eng)
    return f"""\
Cisco IOS Software, C3560CX Software (C3560CX-UNIVERSALK9-M), Version {hw.version}, \
RELEASE SOFTWARE (fc2)
Technical Support: http://www.cisco.com/techsupport
Copyright (c) 1986-2021 by Cisco Systems, Inc.
Compiled Wed 10-Feb-21 23:42 by mcpre

ROM: Bootstrap program is C3560CX boot loader
BOOTLDR: C3560CX Boot Loader (C3560CX-HBOOT-M) Version 15.2(4r)E5, RELEASE SOFTWARE (fc4)

{eng.state.hostname} uptime is {uptime}
System returned to ROM by power-on
System restarted at {restarted}
System image file is "flash:c3560cx-universalk9-mz.152-7.E4.bin"
Last reload reason: power-on



This product contains cryptographic features and is subject to United
States and local country laws governing import, export, transfer and
use. Delivery of Cisco cryptographic products does not imply
third-party authority to import, export, distribute or use encryption.

License Level: ipservices
License Type: Permanent Right-To-Use
Next reload license Level: ipservices

cisco {hw.pid} (APM86XXX) processor (revision A0) with 524288K bytes of memory.
Processor board ID {sn}
Last reset from power-on
1 Virtual Ethernet interface
10 Gigabit Ethernet interfaces
The password-recovery mechanism is enabled.

512K bytes of flash-simulated non-volatile configuration memory.
Base ethernet MAC Address       : {mac}
Motherboard assembly number     : 73-16471-05
Power supply part number        : 341-0675-01
Motherboard serial number       : {serial("FOC", eng.state.index + 500000)}
Power supply serial number      : {serial("DCB", eng.state.index)}
Model revision number           : A0
Motherboard revision number     : A0
Model number                    : {hw.pid}
System serial number            : {sn}
Top Assembly Part Number        : 68-5359-01
Top Assembly Revision Number    : A0
Version ID                      : V03
CLEI Code Number                : CMM1X00ARA
Hardware Board Revision Number  : 0x02


Switch Ports Model                     SW Version            SW Image
------ ----- -----                     ----------            ----------
*    1 10    {hw.pid:<25} {hw.version:<21} C3560CX-UNIVERSALK9-M


Configuration register is 0xF

"""


def xe_version(eng: IosSession, args: tuple[str, ...]) -> str:
    """``show version`` of a Catalyst 9300 running IOS-XE 17.9."""
    hw = eng.flavor.hardware
    sn = serial(hw.serial_prefix, eng.state.index)
    mac = mac_colon(mac_bytes(hw.oui, eng.state.index))
    uptime, restarted = _since_boot(eng)
    return f"""\
Cisco IOS XE Software, Version 17.09.04a
Cisco IOS Software [Cupertino], Catalyst L3 Switch Software (CAT9K_IOSXE), \
Version {hw.version}, RELEASE SOFTWARE (fc3)
Technical Support: http://www.cisco.com/techsupport
Copyright (c) 1986-2023 by Cisco Systems, Inc.
Compiled Tue 19-Sep-23 12:14 by mcpre


Cisco IOS-XE software, Copyright (c) 2005-2023 by cisco Systems, Inc.
All rights reserved.  Certain components of Cisco IOS-XE software are
licensed under the GNU General Public License ("GPL") Version 2.0.

ROM: IOS-XE ROMMON
BOOTLDR: System Bootstrap, Version 17.8.1r[FC1], RELEASE SOFTWARE (P)

{eng.state.hostname} uptime is {uptime}
Uptime for this control processor is {uptime}
System returned to ROM by Reload Command
System restarted at {restarted}
System image file is "flash:packages.conf"
Last reload reason: Reload Command



This product contains cryptographic features and is subject to United
States and local country laws governing import, export, transfer and
use.


Technology Package License Information:

------------------------------------------------------------------------------
Technology-package                                     Technology-package
Current                        Type                       Next reboot
------------------------------------------------------------------------------
network-advantage       Smart License                    network-advantage
dna-advantage           Subscription Smart License       dna-advantage


cisco {hw.pid} (X86) processor with 1331521K/6147K bytes of memory.
Processor board ID {sn}
2 Virtual Ethernet interfaces
28 Gigabit Ethernet interfaces
4 Ten Gigabit Ethernet interfaces
2048K bytes of non-volatile configuration memory.
8388608K bytes of physical memory.
1638400K bytes of Crash Files at crashinfo:.
11264000K bytes of Flash at flash:.

Base Ethernet MAC Address          : {mac}
Motherboard Assembly Number        : 73-17952-06
Motherboard Serial Number          : {serial("FOC", eng.state.index + 700000)}
Model Revision Number              : B0
Motherboard Revision Number        : A0
Model Number                       : {hw.pid}
System Serial Number               : {sn}
CLEI Code Number                   : INM1S00ARA


Switch Ports Model              SW Version        SW Image              Mode
------ ----- -----              ----------        ----------            ----
*    1 32    {hw.pid:<18} 17.09.04a         CAT9K_IOSXE           INSTALL


Configuration register is 0x102

"""


def _flavor(
    name: str, hw: Hardware, version: ShowFn, base: Callable[[str, int], Config]
) -> IosFlavor:
    shows: dict[str, ShowFn] = dict(show.IOS_SHOWS)
    shows["version"] = version
    return IosFlavor(
        name=name,
        hardware=hw,
        base_config=base,
        shows=shows,
        user_shows=frozenset(
            {"version", "clock", "inventory", "users", "ip interface brief", "privilege"}
        ),
        iface_types=(
            "GigabitEthernet",
            "FastEthernet",
            "TenGigabitEthernet",
            "Port-channel",
            "Loopback",
            "Tunnel",
            "Vlan",
        ),
        pager=MORE,
        paging_off=("terminal length <arg>",),
        extra_exec={"terminal no monitor": "noop", "terminal monitor": "noop"},
        privileged_exec=rollback.FILE_PHRASES,
        global_vocab=vocab_data.GLOBAL,
        iface_vocab=vocab_data.INTERFACE,
        router_vocab=vocab_data.ROUTER,
        submodes=IOS_SUBMODES,
        switch=True,
        motd="",
    )


IOS = _flavor("cisco_ios", IOS_HW, ios_version, ios_config)
XE = _flavor("cisco_xe", XE_HW, xe_version, xe_config)

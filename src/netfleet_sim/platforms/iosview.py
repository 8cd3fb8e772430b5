"""Read-only views of an IOS-like configuration (interfaces, VLANs) for show commands."""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass

from netfleet_sim.platforms import ioscfg
from netfleet_sim.platforms.identity import mac_bytes
from netfleet_sim.platforms.ioscfg import Config

VIRTUAL_PREFIXES = (
    "loopback",
    "vlan",
    "port-channel",
    "tunnel",
    "bdi",
    "bundle-ether",
    "nve",
    "null",
)
MGMT_PREFIXES = ("management", "mgmt")


@dataclass(frozen=True, slots=True)
class Hardware:
    """Fixed facts about a simulated device model."""

    pid: str
    descr: str
    serial_prefix: str
    oui: tuple[int, int, int]
    connected: int
    """How many leading physical ports have a link."""
    version: str


@dataclass(frozen=True, slots=True)
class IfaceView:
    """One interface as show commands see it."""

    name: str
    description: str
    ip: str | None
    prefix: int | None
    shutdown: bool
    physical: bool
    switchport: bool
    access_vlan: int
    trunk: bool
    connected: bool
    mac: bytes
    mtu: int

    @property
    def mask(self) -> str | None:
        """The dotted netmask."""
        if self.prefix is None:
            return None
        return str(ipaddress.IPv4Network(f"0.0.0.0/{self.prefix}").netmask)

    @property
    def status(self) -> str:
        """``up``, ``down`` or ``administratively down``."""
        if self.shutdown:
            return "administratively down"
        return "up" if self.connected else "down"

    @property
    def protocol(self) -> str:
        """Line protocol state."""
        return "up" if self.connected and not self.shutdown else "down"


def parse_address(text: str | None) -> tuple[str | None, int | None]:
    """``10.0.0.1 255.255.255.0`` or ``10.0.0.1/24`` -> (address, prefix length)."""
    if not text:
        return None, None
    words = text.split()
    try:
        if "/" in words[0]:
            iface = ipaddress.IPv4Interface(words[0])
        elif len(words) > 1:
            iface = ipaddress.IPv4Interface(f"{words[0]}/{words[1]}")
        else:
            return None, None
    except ValueError:
        return None, None
    return str(iface.ip), iface.network.prefixlen


def interfaces(config: Config, hw: Hardware, index: int, *, switch: bool) -> list[IfaceView]:
    """All interfaces of ``config`` in running-config order."""
    views: list[IfaceView] = []
    port = 0
    for stanza in ioscfg.find_prefix(config, "interface "):
        name = stanza[0].split(None, 1)[1]
        low = name.lower()
        physical = not low.startswith(VIRTUAL_PREFIXES)
        mgmt = low.startswith(MGMT_PREFIXES)
        description = ioscfg.child_value(stanza, "description ") or ""
        address = ioscfg.child_value(stanza, "ip address ")
        ip, prefix = parse_address(address or ioscfg.child_value(stanza, "ipv4 address "))
        shutdown = "shutdown" in stanza[1:]
        is_switchport = (
            switch and physical and not mgmt and "no switchport" not in stanza[1:]
        ) or "switchport" in stanza[1:]
        mode = ioscfg.child_value(stanza, "switchport mode ") or "access"
        vlan = ioscfg.child_value(stanza, "switchport access vlan ") or "1"
        if physical and not mgmt:
            port += 1
        connected = not physical or mgmt or port <= hw.connected or bool(description)
        mtu = ioscfg.child_value(stanza, "mtu ")
        views.append(
            IfaceView(
                name=name,
                description=description,
                ip=ip,
                prefix=prefix,
                shutdown=shutdown,
                physical=physical,
                switchport=is_switchport,
                access_vlan=int(vlan) if vlan.isdigit() else 1,
                trunk=mode == "trunk",
                connected=connected,
                mac=mac_bytes(hw.oui, index, len(views) + 1),
                mtu=int(mtu) if mtu and mtu.isdigit() else 1500,
            )
        )
    return views


def vlans(config: Config) -> dict[int, str]:
    """Configured VLAN ids and names (default names ``VLAN0010``), VLAN 1 included."""
    out: dict[int, str] = {1: "default"}
    for stanza in ioscfg.find_prefix(config, "vlan "):
        words = stanza[0].split()
        if len(words) == 2 and words[1].isdigit():
            vid = int(words[1])
            out[vid] = ioscfg.child_value(stanza, "name ") or f"VLAN{vid:04d}"
    return dict(sorted(out.items()))


def clock_text(now: dt.datetime) -> str:
    """``10:22:31.123 UTC Fri Nov 27 2026`` as IOS prints it."""
    return f"{now:%H:%M:%S}.{now.microsecond // 1000:03d} UTC {now:%a} {now:%b} {now.day} {now:%Y}"


def utc_now() -> dt.datetime:
    """The current time in UTC."""
    return dt.datetime.now(dt.UTC)

"""Read-only views of an IOS-like configuration (interfaces, VLANs) for show commands."""

from __future__ import annotations

import datetime as dt
import functools
import ipaddress
from dataclasses import dataclass

from netfleet_sim.platforms.identity import mac_bytes
from netfleet_sim.platforms.ios_like import config as cfg
from netfleet_sim.platforms.ios_like.config import Config

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
    oui: tuple[int, int, int]
    index: int
    port: int
    mtu: int

    @property
    def mac(self) -> bytes:
        """The interface's MAC address."""
        return mac_bytes(self.oui, self.index, self.port)

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


@functools.lru_cache(maxsize=4096)
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
    for stanza in config:
        if not stanza[0].startswith("interface "):
            continue
        name = stanza[0][len("interface ") :]
        low = name.lower()
        physical = not low.startswith(VIRTUAL_PREFIXES)
        mgmt = low.startswith(MGMT_PREFIXES)
        facts = _facts(stanza)
        if physical and not mgmt:
            port += 1
        is_switchport = (switch and physical and not mgmt and not facts.routed) or facts.l2
        description = facts.description
        views.append(
            IfaceView(
                name=name,
                description=description,
                ip=facts.ip,
                prefix=facts.prefix,
                shutdown=facts.shutdown,
                physical=physical,
                switchport=is_switchport,
                access_vlan=facts.vlan,
                trunk=facts.trunk,
                connected=not physical or mgmt or port <= hw.connected or bool(description),
                oui=hw.oui,
                index=index,
                port=len(views) + 1,
                mtu=facts.mtu,
            )
        )
    return views


@dataclass(slots=True)
class _Facts:
    description: str = ""
    ip: str | None = None
    prefix: int | None = None
    shutdown: bool = False
    routed: bool = False
    l2: bool = False
    trunk: bool = False
    vlan: int = 1
    mtu: int = 1500


def _facts(stanza: list[str]) -> _Facts:
    facts = _Facts()
    for line in stanza[1:]:
        if line.startswith("description "):
            facts.description = line[12:]
        elif line.startswith(("ip address ", "ipv4 address ")) and facts.ip is None:
            facts.ip, facts.prefix = parse_address(line.split(" ", 2)[2])
        elif line == "shutdown":
            facts.shutdown = True
        elif line == "no switchport" or line.startswith("vrf forwarding "):
            facts.routed = True
        elif line == "switchport":
            facts.l2 = True
        elif line == "switchport mode trunk":
            facts.trunk = True
        elif line.startswith("switchport access vlan ") and line[23:].isdigit():
            facts.vlan = int(line[23:])
        elif line.startswith("mtu ") and line[4:].isdigit():
            facts.mtu = int(line[4:])
    return facts


def vlans(config: Config) -> dict[int, str]:
    """Configured VLAN ids and names (default names ``VLAN0010``), VLAN 1 included."""
    out: dict[int, str] = {1: "default"}
    for stanza in cfg.find_prefix(config, "vlan "):
        words = stanza[0].split()
        if len(words) == 2 and words[1].isdigit():
            vid = int(words[1])
            out[vid] = cfg.child_value(stanza, "name ") or f"VLAN{vid:04d}"
    return dict(sorted(out.items()))


def clock_text(now: dt.datetime) -> str:
    """``10:22:31.123 UTC Fri Nov 27 2026`` as IOS prints it."""
    return f"{now:%H:%M:%S}.{now.microsecond // 1000:03d} UTC {now:%a} {now:%b} {now.day} {now:%Y}"


def utc_now() -> dt.datetime:
    """The current time in UTC."""
    return dt.datetime.now(dt.UTC)

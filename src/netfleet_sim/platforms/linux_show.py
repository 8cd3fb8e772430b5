"""Output of common Linux commands on the simulated Ubuntu 22.04 host."""

from __future__ import annotations

import datetime as dt
import ipaddress
from typing import TYPE_CHECKING

from netfleet_sim.platforms.identity import mac_bytes, mac_colon

if TYPE_CHECKING:
    from netfleet_sim.platforms.linux import LinuxState

KERNEL = "5.15.0-105-generic"
OUI = (0x52, 0x54, 0x00)
OS_RELEASE = """\
PRETTY_NAME="Ubuntu 22.04.4 LTS"
NAME="Ubuntu"
VERSION_ID="22.04"
VERSION="22.04.4 LTS (Jammy Jellyfish)"
VERSION_CODENAME=jammy
ID=ubuntu
ID_LIKE=debian
HOME_URL="https://www.ubuntu.com/"
SUPPORT_URL="https://help.ubuntu.com/"
BUG_REPORT_URL="https://bugs.launchpad.net/ubuntu/"
PRIVACY_POLICY_URL="https://www.ubuntu.com/legal/terms-and-policies/privacy-policy"
UBUNTU_CODENAME=jammy
"""


def uname(state: LinuxState, flags: str) -> str:
    """``uname [-asnrmo]``."""
    parts = {
        "s": "Linux",
        "n": state.hostname,
        "r": KERNEL,
        "v": "#115-Ubuntu SMP Mon Apr 15 09:52:04 UTC 2024",
        "m": "x86_64",
        "p": "x86_64",
        "i": "x86_64",
        "o": "GNU/Linux",
    }
    if not flags:
        return "Linux\n"
    if "a" in flags:
        return " ".join(parts[k] for k in "snrvmpio") + "\n"
    return " ".join(parts[k] for k in "snrvmpio" if k in flags) + "\n"


def _link_line(n: int, name: str, state: LinuxState) -> list[str]:
    if name == "lo":
        return [
            f"{n}: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN"
            " mode DEFAULT group default qlen 1000",
            "    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00",
        ]
    mac = mac_colon(mac_bytes(OUI, state.index, n))
    return [
        f"{n}: {name}: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc fq_codel state UP"
        " mode DEFAULT group default qlen 1000",
        f"    link/ether {mac} brd ff:ff:ff:ff:ff:ff",
    ]


def ip_link(state: LinuxState) -> str:
    """``ip link show``."""
    lines: list[str] = []
    for n, name in enumerate(state.addresses, start=1):
        lines += _link_line(n, name, state)
    return "\n".join(lines) + "\n"


def ip_addr(state: LinuxState) -> str:
    """``ip address show``."""
    lines: list[str] = []
    for n, (name, addresses) in enumerate(state.addresses.items(), start=1):
        head, link = _link_line(n, name, state)
        lines += [head.replace(" mode DEFAULT", ""), link]
        if name != "lo":
            lines.append(f"    altname enp0s{n + 1}")
        for address in addresses:
            iface = ipaddress.IPv4Interface(address)
            if name == "lo":
                lines.append(f"    inet {address} scope host lo")
            else:
                brd = iface.network.broadcast_address
                lines.append(f"    inet {address} brd {brd} scope global {name}")
            lines.append("       valid_lft forever preferred_lft forever")
        if name == "lo":
            lines += [
                "    inet6 ::1/128 scope host ",
                "       valid_lft forever preferred_lft forever",
            ]
        else:
            raw = mac_bytes(OUI, state.index, n)
            eui = bytes([raw[0] ^ 2, raw[1], raw[2], 0xFF, 0xFE, raw[3], raw[4], raw[5]])
            link_local = ipaddress.IPv6Address(b"\xfe\x80" + bytes(6) + eui)
            lines += [
                f"    inet6 {link_local}/64 scope link ",
                "       valid_lft forever preferred_lft forever",
            ]
    return "\n".join(lines) + "\n"


def ip_route(state: LinuxState) -> str:
    """``ip route show``."""
    lines = [f"default via {state.gateway} dev eth0 proto static"]
    for name, addresses in state.addresses.items():
        if name == "lo":
            continue
        for address in addresses:
            iface = ipaddress.IPv4Interface(address)
            lines.append(f"{iface.network} dev {name} proto kernel scope link src {iface.ip}")
    return "\n".join(lines) + "\n"


def uptime(state: LinuxState, pretty: bool) -> str:
    """``uptime`` / ``uptime -p``."""
    seconds = int(state.uptime())
    days, rest = divmod(seconds, 86400)
    hours, minutes = rest // 3600, rest % 3600 // 60
    if pretty:
        return f"up {days} days, {hours} hours, {minutes} minutes\n"
    now = dt.datetime.now(dt.UTC)
    return (
        f" {now:%H:%M:%S} up {days} days, {hours:2d}:{minutes:02d},  1 user,"
        "  load average: 0.08, 0.03, 0.01\n"
    )


def motd(state: LinuxState) -> str:
    """The Ubuntu login banner."""
    now = dt.datetime.now(dt.UTC)
    address = state.addresses.get("eth0", ["-"])[0].split("/")[0]
    return (
        f"Welcome to Ubuntu 22.04.4 LTS (GNU/Linux {KERNEL} x86_64)\n\n"
        " * Documentation:  https://help.ubuntu.com\n"
        " * Management:     https://landscape.canonical.com\n"
        " * Support:        https://ubuntu.com/pro\n\n"
        f"  System information as of {now:%a %b %d %H:%M:%S} UTC {now:%Y}\n\n"
        "  System load:  0.08               Processes:             112\n"
        "  Usage of /:   23.4% of 28.89GB   Users logged in:       0\n"
        f"  Memory usage: 12%                IPv4 address for eth0: {address}\n"
        "  Swap usage:   0%\n\n"
    )


def df() -> str:
    """``df -h``."""
    return (
        "Filesystem      Size  Used Avail Use% Mounted on\n"
        "tmpfs           393M  1.1M  392M   1% /run\n"
        "/dev/sda2        29G  6.8G   21G  25% /\n"
        "tmpfs           2.0G     0  2.0G   0% /dev/shm\n"
        "tmpfs           5.0M     0  5.0M   0% /run/lock\n"
        "tmpfs           393M  4.0K  393M   1% /run/user/1000\n"
    )


def free() -> str:
    """``free -m``."""
    return (
        "               total        used        free      shared  buff/cache   available\n"
        "Mem:            3931         472        2874           1         584        3226\n"
        "Swap:           2047           0        2047\n"
    )

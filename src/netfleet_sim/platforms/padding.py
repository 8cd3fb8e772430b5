"""Deterministic filler stanzas that pad a running configuration to a requested size.

Padding is generated on demand (never stored) so large configurations cost no memory.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

PadStyle = Callable[[int], list[str]]


def _hosts(n: int, i: int) -> tuple[str, int]:
    return f"10.{(n * 7 + i) % 250 + 1}.{(n + i * 13) % 250}.0", 1024 + (n * 31 + i * 17) % 60000


def ios_acl(n: int) -> list[str]:
    """An extended ACL as IOS/IOS-XE/EOS print it."""
    lines = [f"ip access-list extended NF-PAD-{n:05d}"]
    for i in range(1, 9):
        net, port = _hosts(n, i)
        lines.append(f" {i * 10} permit tcp {net} 0.0.0.255 any eq {port}")
    lines.append(" 90 deny ip any any log")
    return lines


def nxos_acl(n: int) -> list[str]:
    """An ACL as NX-OS prints it."""
    lines = [f"ip access-list NF-PAD-{n:05d}"]
    for i in range(1, 9):
        net, port = _hosts(n, i)
        lines.append(f"  {i * 10} permit tcp {net}/24 any eq {port}")
    lines.append("  90 deny ip any any log")
    return lines


def xr_acl(n: int) -> list[str]:
    """An ACL as IOS-XR prints it."""
    lines = [f"ipv4 access-list NF-PAD-{n:05d}"]
    for i in range(1, 9):
        net, port = _hosts(n, i)
        lines.append(f" {i * 10} permit tcp {net} 0.0.0.255 any eq {port}")
    lines += [" 90 deny ipv4 any any log", "!"]
    return lines


def asa_acl(n: int) -> list[str]:
    """ACL entries as an ASA prints them."""
    lines = []
    for i in range(1, 9):
        net, port = _hosts(n, i)
        lines.append(
            f"access-list NF-PAD-{n:05d} extended permit tcp {net} 255.255.255.0 any eq {port}"
        )
    return lines


def junos_filter(n: int) -> list[str]:
    """``set`` lines of a firewall filter term."""
    net, port = _hosts(n, 1)
    base = f"set firewall family inet filter NF-PAD-{n:05d} term t{n}"
    return [
        f"{base} from source-address {net}/24",
        f"{base} from protocol tcp",
        f"{base} from destination-port {port}",
        f"{base} then accept",
    ]


def pad_lines(style: PadStyle, current: int, target: int, *, bang: str = "!") -> Iterator[str]:
    """Filler lines until ``current`` bytes reach ``target``."""
    n = 1
    size = current
    while size < target:
        for line in style(n):
            size += len(line) + 1
            yield line
        if bang:
            size += len(bang) + 1
            yield bang
        n += 1

"""Deterministic per-device identity: serial numbers, MAC addresses, uptime."""

from __future__ import annotations

import hashlib
import time

_B36 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _digest(index: int, salt: str) -> int:
    raw = hashlib.blake2b(f"{salt}:{index}".encode(), digest_size=8).digest()
    return int.from_bytes(raw, "big")


def serial(prefix: str, index: int, length: int = 11) -> str:
    """A serial number such as ``FOC2231X0KQ`` unique to ``index``."""
    value = _digest(index, prefix)
    chars = []
    for _ in range(length - len(prefix)):
        value, rem = divmod(value, 36)
        chars.append(_B36[rem])
    return prefix + "".join(chars)


def mac_bytes(oui: tuple[int, int, int], index: int, port: int = 0) -> bytes:
    """A MAC address in ``oui`` unique to ``index`` (and ``port``)."""
    low = (index * 64 + port) & 0xFFFFFF
    return bytes([*oui, (low >> 16) & 0xFF, (low >> 8) & 0xFF, low & 0xFF])


def mac_colon(raw: bytes) -> str:
    """``aa:bb:cc:dd:ee:ff``."""
    return ":".join(f"{b:02x}" for b in raw)


def mac_dotted(raw: bytes) -> str:
    """Cisco style ``aabb.ccdd.eeff``."""
    h = raw.hex()
    return f"{h[0:4]}.{h[4:8]}.{h[8:12]}"


def initial_uptime(index: int) -> int:
    """Seconds a freshly created device has been up (varies with ``index``)."""
    return 86400 * (3 + index % 211) + 3600 * (index * 5 % 24) + 60 * (index * 7 % 60) + 17


def boot_epoch(index: int) -> float:
    """The wall-clock time at which device ``index`` booted."""
    return time.time() - initial_uptime(index)


def split_uptime(seconds: float) -> tuple[int, int, int, int, int]:
    """(years, weeks, days, hours, minutes)."""
    total = int(seconds) // 60
    minutes = total % 60
    hours = total // 60 % 24
    days_total = total // 1440
    years, rest = divmod(days_total, 365)
    weeks, days = divmod(rest, 7)
    return years, weeks, days, hours, minutes


def cisco_uptime(seconds: float) -> str:
    """``1 year, 3 weeks, 2 days, 4 hours, 12 minutes`` (zero parts omitted)."""
    years, weeks, days, hours, minutes = split_uptime(seconds)
    parts = []
    for value, unit in ((years, "year"), (weeks, "week"), (days, "day"), (hours, "hour")):
        if value:
            parts.append(f"{value} {unit}{'s' if value != 1 else ''}")
    parts.append(f"{minutes} minute{'s' if minutes != 1 else ''}")
    return ", ".join(parts)


def ipv4_mgmt(index: int) -> str:
    """A management address for device ``index`` in 10.0.0.0/8."""
    high, low = divmod(index, 254)
    return f"10.{high // 254 % 256}.{high % 254 + 1}.{low + 1}"

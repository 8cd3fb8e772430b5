"""The configuration tree of IOS-like devices and the rules that edit it.

A configuration is an ordered list of stanzas; a stanza is a list of lines:
its header (``interface Loopback0``) followed by its child lines (stored
without the one-space indentation). Single-line commands are one-line stanzas.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Iterator, Sequence

Stanza = list[str]
Config = list[Stanza]

# How many leading words identify a line: a new line with the same identity replaces the old.
_IDENTITY: dict[tuple[str, ...], int] = {
    ("hostname",): 1,
    ("banner", "motd"): 2,
    ("banner", "login"): 2,
    ("banner", "exec"): 2,
    ("enable", "secret"): 2,
    ("enable", "password"): 2,
    ("ip", "domain-name"): 2,
    ("ip", "domain", "name"): 3,
    ("ip", "default-gateway"): 2,
    ("ip", "ssh", "version"): 3,
    ("domain-name",): 1,
    ("username",): 2,
    ("snmp-server", "community"): 3,
    ("snmp-server", "location"): 2,
    ("snmp-server", "contact"): 2,
    ("clock", "timezone"): 2,
    ("ntp", "server"): 3,
    ("ntp", "source"): 2,
    ("logging", "host"): 3,
    ("logging", "buffered"): 2,
    ("logging", "source-interface"): 2,
    ("spanning-tree", "mode"): 2,
    ("vtp", "mode"): 2,
    ("description",): 1,
    ("ip", "address"): 2,
    ("ipv4", "address"): 2,
    ("shutdown",): 1,
    ("switchport", "mode"): 2,
    ("switchport", "access", "vlan"): 3,
    ("switchport", "trunk", "allowed", "vlan"): 4,
    ("switchport", "trunk", "native", "vlan"): 4,
    ("mtu",): 1,
    ("speed",): 1,
    ("duplex",): 1,
    ("name",): 1,
    ("nameif",): 1,
    ("security-level",): 1,
    ("exec-timeout",): 1,
    ("transport", "input"): 2,
    ("password",): 1,
    ("vrf", "forwarding"): 2,
    ("vrf", "member"): 2,
    ("ip", "vrf", "forwarding"): 3,
    ("encapsulation",): 1,
    ("channel-group",): 1,
    ("router-id",): 1,
    ("bandwidth",): 1,
}

# Position of a stanza in the running configuration, by its leading words.
_RANK: dict[tuple[str, ...], int] = {
    ("version",): 0,
    ("feature",): 2,
    ("service",): 3,
    ("hostname",): 5,
    ("boot",): 6,
    ("enable",): 8,
    ("username",): 9,
    ("aaa",): 10,
    ("clock",): 11,
    ("names",): 12,
    ("vtp",): 15,
    ("ip", "domain-name"): 16,
    ("ip", "domain"): 16,
    ("ip", "name-server"): 17,
    ("domain-name",): 16,
    ("spanning-tree",): 20,
    ("vlan",): 30,
    ("vrf",): 40,
    ("interface",): 50,
    ("router",): 55,
    ("ip", "http"): 66,
    ("ip", "route"): 70,
    ("route",): 70,
    ("ip", "access-list"): 72,
    ("access-list",): 73,
    ("logging",): 75,
    ("snmp-server",): 80,
    ("ntp",): 85,
    ("banner",): 90,
    ("line",): 95,
}
_DEFAULT_RANK = 60

_NUM = re.compile(r"(\d+)")


def natural_key(text: str) -> tuple[object, ...]:
    """Sort key comparing digit runs numerically (``Gi0/10`` after ``Gi0/9``)."""
    return tuple(int(p) if p.isdigit() else p for p in _NUM.split(text))


def _lookup(table: dict[tuple[str, ...], int], words: Sequence[str]) -> int | None:
    low = [w.lower() for w in words]
    for size in (4, 3, 2, 1):
        value = table.get(tuple(low[:size]))
        if value is not None and len(low) >= size:
            return value
    return None


def identity(line: str) -> tuple[str, ...]:
    """The words that identify ``line`` among its siblings."""
    words = line.split()
    size = _lookup(_IDENTITY, words)
    if size is None:
        return tuple(words)
    return tuple(w.lower() if i < size else w for i, w in enumerate(words[:size]))


def has_identity_rule(line: str) -> bool:
    """Whether ``line`` takes a value (``description x``) rather than being a flag."""
    return _lookup(_IDENTITY, line.split()) is not None


def _rank(header: str, iface_order: Sequence[str]) -> tuple[int, tuple[object, ...]]:
    words = header.split()
    rank = _lookup(_RANK, words)
    if rank is None:
        rank = _DEFAULT_RANK
    if words and words[0] == "interface" and len(words) > 1:
        name = words[1]
        kind = next((i for i, t in enumerate(iface_order) if name.startswith(t)), 99)
        return rank, (kind, *natural_key(name))
    if words and words[0] == "vlan" and len(words) > 1 and words[1].isdigit():
        return rank, (int(words[1]),)
    return rank, ()


def intern_config(config: Iterable[Sequence[str]]) -> Config:
    """A private copy of ``config`` whose lines are interned (devices share them)."""
    return [[sys.intern(line) for line in stanza] for stanza in config]


_SHARED: dict[tuple[str, ...], Stanza] = {}


def share_config(config: Iterable[Sequence[str]]) -> Config:
    """A copy of ``config`` whose stanzas are shared with identical stanzas of other devices.

    Shared stanzas are never edited in place: :func:`ensure_stanza` and :func:`set_global`
    replace a stanza with a private copy before it changes.
    """
    out: Config = []
    for stanza in config:
        key = tuple(stanza)
        shared = _SHARED.get(key)
        if shared is None:
            shared = _SHARED[key] = [sys.intern(line) for line in stanza]
        out.append(shared)
    return out


def private(config: Config, header: str) -> Stanza | None:
    """The stanza with ``header``, replaced in ``config`` by a copy safe to edit in place."""
    for i, stanza in enumerate(config):
        if stanza[0] == header:
            config[i] = list(stanza)
            return config[i]
    return None


def find(config: Config, header: str) -> Stanza | None:
    """The stanza whose header is ``header``."""
    for stanza in config:
        if stanza[0] == header:
            return stanza
    return None


def find_prefix(config: Config, prefix: str) -> Iterator[Stanza]:
    """Stanzas whose header starts with ``prefix``."""
    return (s for s in config if s[0].startswith(prefix))


def value(config: Config, prefix: str) -> str | None:
    """The rest of the first single line starting with ``prefix``."""
    for stanza in config:
        if stanza[0].startswith(prefix):
            return stanza[0][len(prefix) :].strip()
    return None


def child_value(stanza: Stanza, prefix: str) -> str | None:
    """The rest of the first child line of ``stanza`` starting with ``prefix``."""
    for line in stanza[1:]:
        if line.startswith(prefix):
            return line[len(prefix) :].strip()
    return None


def ensure_stanza(config: Config, header: str, iface_order: Sequence[str]) -> Stanza:
    """The stanza with ``header`` (a private copy), inserted at its ranked position when new."""
    found = private(config, header)
    if found is not None:
        return found
    stanza: Stanza = [sys.intern(header)]
    config.insert(_position(config, header, iface_order), stanza)
    return stanza


def _position(config: Config, header: str, iface_order: Sequence[str]) -> int:
    key = _rank(header, iface_order)
    first = header.split()[0]
    siblings = [i for i, s in enumerate(config) if s[0].split(None, 1)[0] == first]
    if siblings:
        before = [i for i in siblings if _rank(config[i][0], iface_order) <= key]
        return before[-1] + 1 if before else siblings[0]
    for i in range(len(config) - 1, -1, -1):
        if _rank(config[i][0], iface_order) <= key:
            return i + 1
    return 0


def set_global(config: Config, line: str, iface_order: Sequence[str]) -> None:
    """Add or replace a single-line global command."""
    ident = identity(line)
    for i, stanza in enumerate(config):
        if len(stanza) == 1 and identity(stanza[0]) == ident:
            config[i] = [sys.intern(line)]
            return
    _drop_negation(config, line)
    ensure_stanza(config, line, iface_order)


def _drop_negation(config: Config, line: str) -> None:
    config[:] = [s for s in config if not (len(s) == 1 and s[0] == f"no {line}")]


def set_child(stanza: Stanza, line: str) -> None:
    """Add or replace a child line of ``stanza``."""
    ident = identity(line)
    for i in range(1, len(stanza)):
        if identity(stanza[i]) == ident:
            stanza[i] = sys.intern(line)
            return
    negations = {f"no {line}", "no " + " ".join(ident)}
    stanza[1:] = [c for c in stanza[1:] if c not in negations]
    stanza.append(sys.intern(line))


def _matches(line: str, words: list[str]) -> bool:
    have = line.split()
    if len(have) < len(words):
        return False
    return [w.lower() for w in have[: len(words)]] == [w.lower() for w in words]


def negate_global(config: Config, rest: str) -> bool:
    """Apply ``no <rest>`` globally: remove matching lines or stanzas; False if none matched."""
    words = rest.split()
    before = len(config)
    config[:] = [s for s in config if not _matches(s[0], words)]
    return len(config) != before


def negate_child(stanza: Stanza, rest: str) -> bool:
    """Apply ``no <rest>`` inside ``stanza``; False if nothing matched."""
    words = rest.split()
    before = len(stanza)
    stanza[1:] = [line for line in stanza[1:] if not _matches(line, words)]
    return len(stanza) != before


def render(config: Config, *, indent: str = " ", bang: str | None = "!") -> Iterator[str]:
    """Lines of the configuration in IOS style (``!`` between stanzas and groups)."""
    previous: tuple[bool, int] | None = None
    for stanza in config:
        block = len(stanza) > 1 or stanza[0].startswith("interface ")
        rank = _rank(stanza[0], ())[0]
        if bang is not None and previous and not previous[0] and (block or previous[1] != rank):
            yield bang
        yield stanza[0]
        for child in stanza[1:]:
            yield indent + child
        if block and bang is not None:
            yield bang
        previous = (block, rank)

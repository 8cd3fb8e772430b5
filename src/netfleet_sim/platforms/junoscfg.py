"""Junos configuration stored as ``set`` statements, rendered as the curly-brace hierarchy."""

from __future__ import annotations

import shlex
from collections.abc import Iterable, Iterator

# Keywords followed by a name that opens its own block: ``unit 0 {``.
PAIR = frozenset(
    {
        "unit",
        "family",
        "user",
        "host",
        "file",
        "community",
        "route",
        "interface",
        "group",
        "neighbor",
        "filter",
        "term",
        "policy-statement",
        "area",
        "zone",
        "security-zone",
        "address-book",
        "prefix-list",
        "instance",
    }
)
# Keywords always rendered as a block even when all children are flags.
CONTAINERS = frozenset({"services", "netconf", "ssh", "web-management", "lldp", "rstp", "igmp"})
# Statements collapsed to one line (``route 0.0.0.0/0 next-hop 10.0.0.254;``).
COLLAPSE = frozenset({"route"})
# Statements holding a single value: setting them replaces the old value.
SINGLE = frozenset(
    {
        "host-name",
        "description",
        "vlan-id",
        "encrypted-password",
        "class",
        "uid",
        "message",
        "authorization",
        "mtu",
        "speed",
        "time-zone",
        "domain-name",
        "location",
        "contact",
        "screen-length",
        "screen-width",
        "router-id",
        "autonomous-system",
        "peer-as",
        "native-vlan-id",
        "interface-mode",
    }
)
TOP_ORDER = (
    "version",
    "groups",
    "apply-groups",
    "system",
    "chassis",
    "security",
    "interfaces",
    "snmp",
    "forwarding-options",
    "routing-options",
    "protocols",
    "policy-options",
    "class-of-service",
    "firewall",
    "routing-instances",
    "vlans",
)


def words(text: str) -> list[str]:
    """Split a statement, keeping quoted strings (with their quotes) as one word."""
    if '"' not in text:
        return text.split()
    lexer = shlex.shlex(text, posix=False)
    lexer.whitespace_split = True
    lexer.commenters = ""
    try:
        return list(lexer)
    except ValueError:
        return text.split()


def set_line(config: list[str], statement: str) -> None:
    """Apply ``set <statement>`` to ``config`` (a list of statements)."""
    parts = words(statement)
    line = " ".join(parts)
    if line in config:
        return
    if len(parts) >= 2 and parts[-2] in SINGLE:
        prefix = " ".join(parts[:-1]) + " "
        config[:] = [c for c in config if not c.startswith(prefix)]
    config.append(line)


def delete_lines(config: list[str], path: str) -> bool:
    """Apply ``delete <path>``; False when nothing matched."""
    target = " ".join(words(path))
    before = len(config)
    config[:] = [c for c in config if c != target and not c.startswith(target + " ")]
    return len(config) != before


class _Node:
    __slots__ = ("children",)

    def __init__(self) -> None:
        self.children: dict[str, _Node] = {}


def _tree(statements: Iterable[str]) -> _Node:
    root = _Node()
    for statement in statements:
        node = root
        for word in words(statement):
            node = node.children.setdefault(word, _Node())
    order = {name: i for i, name in enumerate(TOP_ORDER)}
    root.children = dict(sorted(root.children.items(), key=lambda kv: order.get(kv[0], len(order))))
    return root


def _render(node: _Node, depth: int) -> Iterator[str]:
    pad = "    " * depth
    for word, child in node.children.items():
        if not child.children:
            yield f"{pad}{word};"
        elif word in PAIR:
            for name, sub in child.children.items():
                if not sub.children:
                    yield f"{pad}{word} {name};"
                elif word in COLLAPSE and _single_chain(sub):
                    yield f"{pad}{word} {name} {' '.join(_chain(sub))};"
                else:
                    yield f"{pad}{word} {name} {{"
                    yield from _render(sub, depth + 1)
                    yield pad + "}"
        elif word not in CONTAINERS and all(not c.children for c in child.children.values()):
            for value in child.children:
                yield f"{pad}{word} {value};"
        else:
            yield f"{pad}{word} {{"
            yield from _render(child, depth + 1)
            yield pad + "}"


def _single_chain(node: _Node) -> bool:
    while node.children:
        if len(node.children) != 1:
            return False
        node = next(iter(node.children.values()))
    return True


def _chain(node: _Node) -> list[str]:
    out = []
    while node.children:
        word, node = next(iter(node.children.items()))
        out.append(word)
    return out


def render(statements: Iterable[str]) -> list[str]:
    """The hierarchical (curly-brace) form of ``statements``."""
    return list(_render(_tree(statements), 0))


def under(statements: Iterable[str], path: list[str]) -> list[str]:
    """Statements below ``path``, relative to it."""
    prefix = " ".join(path)
    if not prefix:
        return list(statements)
    return [s[len(prefix) + 1 :] for s in statements if s.startswith(prefix + " ")]


def compare(old: list[str], new: list[str]) -> list[str]:
    """``show | compare`` output: changes grouped under ``[edit ...]`` headers."""
    removed = [s for s in old if s not in set(new)]
    added = [s for s in new if s not in set(old)]
    groups: dict[str, list[str]] = {}
    for mark, statements in (("-", removed), ("+", added)):
        for statement in statements:
            parts = words(statement)
            split = max(1, len(parts) - 2)
            parent = " ".join(parts[:split])
            groups.setdefault(parent, []).append(f"{mark}  {' '.join(parts[split:])};")
    out: list[str] = []
    for parent, changes in groups.items():
        out.append(f"[edit {parent}]")
        out.extend(changes)
    return out

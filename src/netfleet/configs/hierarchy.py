"""A small hierarchical model of configuration text: a tree of lines.

Two styles: ``indent`` (Cisco IOS/XE/NX-OS/XR, EOS, ASA: a child is indented deeper than
its parent) and ``braces`` (Junos: ``name {`` opens a block, ``}`` closes it, ``leaf;``).
Comment lines (``!`` on Cisco-style, ``#`` and ``/* */`` on Junos), blank lines and the
closing ``end`` are not part of the model. IOS ``banner`` bodies are kept verbatim as the
banner's children. Junos ``display set`` text is one flat level of ``set`` lines.

The model is built for comparison and prediction, not to validate syntax: it never raises
on odd text, it just nests lines by their indentation or braces.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal

Style = Literal["indent", "braces"]

STYLES: dict[str, Style] = {
    "cisco_ios": "indent",
    "cisco_xe": "indent",
    "cisco_nxos": "indent",
    "cisco_xr": "indent",
    "cisco_asa": "indent",
    "arista_eos": "indent",
    "juniper_junos": "braces",
}
"""The style of each built-in platform that has a hierarchical config."""

INDENT: dict[str, int] = {"cisco_nxos": 2, "arista_eos": 3, "juniper_junos": 4}
"""Spaces per level the platform prints (1 where not listed)."""


@dataclass(eq=False, slots=True)
class Node:
    """One configuration line and the lines nested under it."""

    text: str
    """The line without its indentation (Junos: without ``{`` or ``;``)."""
    children: list[Node] = field(default_factory=list)
    term: str = ""
    """Junos: ``;`` for a statement, ``{`` for a block, "" for a bare (``set``) line."""
    _index: dict[str, Node] | None = field(default=None, repr=False)

    def child(self, text: str) -> Node | None:
        """The first child whose text is ``text``, or None."""
        if self._index is None:
            index: dict[str, Node] = {}
            for c in self.children:
                index.setdefault(c.text, c)
            self._index = index
        return self._index.get(text)

    def add(self, node: Node) -> Node:
        """Append ``node`` as the last child; returns it."""
        self.children.append(node)
        if self._index is not None:
            self._index.setdefault(node.text, node)
        return node

    def remove(self, node: Node) -> None:
        """Remove the child ``node`` (identity)."""
        self.children = [c for c in self.children if c is not node]
        self._index = None

    def replace(self, old: Node, new: Node) -> None:
        """Put ``new`` where the child ``old`` was."""
        self.children = [new if c is old else c for c in self.children]
        self._index = None

    def walk(self, depth: int = 0) -> Iterator[tuple[int, Node]]:
        """Every descendant with its depth (children of this node have ``depth``)."""
        for c in self.children:
            yield depth, c
            yield from c.walk(depth + 1)


def style_of(platform: str) -> Style | None:
    """The config style of a platform name (or its family), None if flat (Linux)."""
    return STYLES.get(platform)


def parse(text: str, style: Style) -> Node:
    """The tree of ``text``; the returned root has no text of its own."""
    return _parse_braces(text) if style == "braces" else _parse_indent(text)


def _parse_indent(text: str) -> Node:
    root = Node("")
    stack: list[tuple[int, Node]] = [(-1, root)]
    lines = text.replace("\r\n", "\n").split("\n")
    i, n = 0, len(lines)
    while i < n:
        raw = lines[i].rstrip()
        i += 1
        body = raw.lstrip()
        if not body or body[0] == "!" or (body == "end" and len(body) == len(raw)):
            continue
        indent = len(raw) - len(body)
        while stack[-1][0] >= indent:
            stack.pop()
        node = stack[-1][1].add(Node(body))
        if indent == 0 and body.startswith("banner "):
            i = _banner_body(node, lines, i)
            continue
        stack.append((indent, node))
    return root


def _banner_body(node: Node, lines: list[str], i: int) -> int:
    """Read an IOS banner body (``banner motd ^C`` ... ``^C``) into ``node``; next index."""
    parts = node.text.split(None, 2)
    if len(parts) < 3:
        return i
    rest = parts[2]
    delim = "^C" if rest.startswith("^C") else rest[0]
    if rest.count(delim) >= 2 or (rest.endswith(delim) and len(rest) > len(delim)):
        return i  # body and closing delimiter on the same line
    while i < len(lines):
        line = lines[i].rstrip("\r")
        i += 1
        node.add(Node(line))
        if delim in line:
            break
    return i


def _parse_braces(text: str) -> Node:
    root = Node("")
    stack = [root]
    in_comment = False
    for raw in text.replace("\r\n", "\n").split("\n"):
        line = raw.strip()
        if in_comment:
            if "*/" in line:
                in_comment = False
            continue
        if not line or line[0] == "#":
            continue
        if line.startswith("/*"):
            in_comment = "*/" not in line
            continue
        if line == "}":
            if len(stack) > 1:
                stack.pop()
            continue
        if line.endswith("{"):
            stack.append(stack[-1].add(Node(line[:-1].rstrip(), term="{")))
        elif line.endswith(";"):
            stack[-1].add(Node(line[:-1].rstrip(), term=";"))
        else:
            stack[-1].add(Node(line))
    return root


def render(root: Node, style: Style, *, indent: int | None = None) -> list[str]:
    """The lines of the tree, re-indented (``indent`` spaces a level; 1 Cisco, 4 Junos)."""
    step = indent if indent is not None else (4 if style == "braces" else 1)
    out: list[str] = []
    _render(root, style, step, 0, out)
    return out


def _render(node: Node, style: Style, step: int, depth: int, out: list[str]) -> None:
    for c in node.children:
        out.append(line_text(c, style, depth, step, is_banner=node.text.startswith("banner ")))
        if c.children:
            _render(c, style, step, depth + 1, out)
            if style == "braces":
                out.append(" " * (depth * step) + "}")


def line_text(node: Node, style: Style, depth: int, step: int, *, is_banner: bool = False) -> str:
    """One node as a config line at ``depth``."""
    if is_banner:
        return node.text
    pad = " " * (depth * step)
    if style == "braces":
        if node.children or node.term == "{":
            return f"{pad}{node.text} {{"
        return f"{pad}{node.text}{node.term}"
    return pad + node.text

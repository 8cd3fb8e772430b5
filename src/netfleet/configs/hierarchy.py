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

import re
from collections.abc import Iterator
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


class Node:
    """One configuration line and the lines nested under it.

    The children of an indented block are parsed when first used, so looking at a few
    blocks of a large configuration costs little more than finding its top-level lines.
    """

    __slots__ = ("_children", "_index", "_raw", "term", "text")

    def __init__(
        self, text: str, children: list[Node] | None = None, *, term: str = "", raw: str = ""
    ) -> None:
        self.text = text
        """The line without its indentation (Junos: without ``{`` or ``;``)."""
        self.term = term
        """Junos: ``;`` for a statement, ``{`` for a block, "" for a bare (``set``) line."""
        self._children = children if children is not None or raw else []
        self._raw = raw
        self._index: dict[str, Node] | None = None

    def __repr__(self) -> str:
        return f"Node({self.text!r}, {len(self.children)} children)"

    @property
    def children(self) -> list[Node]:
        """The nested lines, in order."""
        if self._children is None:
            self._children = _parse_indent(self._raw).children
            self._raw = ""
        return self._children

    @children.setter
    def children(self, value: list[Node]) -> None:
        self._children = value
        self._raw = ""
        self._index = None

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

    def replace(self, old: Node, new: Node) -> None:
        """Put ``new`` where the child ``old`` was."""
        self.children = [new if c is old else c for c in self.children]

    def same_block(self, other: Node) -> bool:
        """True when both blocks are still unparsed and their bodies are equal (cheap)."""
        return self._children is None and other._children is None and self._raw == other._raw

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
    return _parse_braces(text) if style == "braces" else _parse_top(text)


_TOP_SPLIT = re.compile(r"\n(?=[^!\s])")
"""Splits an indented config before each top-level line (not a comment, not indented)."""


def _parse_top(text: str) -> Node:
    """Top-level lines found in one regex pass; each block's body is parsed on use."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    root = Node("")
    chunks = _TOP_SPLIT.split(text)
    start = 1 if chunks[0] and chunks[0][0] in "! \t\n" else 0
    if start:
        root.children.extend(_parse_indent(chunks[0]).children)  # leading comments
    parts = [c.partition("\n") for c in chunks[start:]]
    banners = [k for k, p in enumerate(parts) if p[0].startswith("banner ")]
    fast = parts[: banners[0]] if banners else parts
    # Fast path: each chunk is a top-level line and its block (parsed when used).
    root.children.extend(
        Node(line.rstrip(), raw=body) if body.strip() else Node(line.rstrip())
        for line, _, body in fast
        if line.rstrip() != "end" or body.strip()
    )
    if banners:
        _parse_chunks(root.children, chunks[start + banners[0] :])
    return root


def _parse_chunks(children: list[Node], chunks: list[str]) -> None:
    """The careful path: top-level chunks that may hold multi-line banners."""
    i = 0
    while i < len(chunks):
        chunk = chunks[i]
        i += 1
        if not chunk or chunk[0] in "! \t\n":
            children.extend(_parse_indent(chunk).children)
            continue
        line, _, body = chunk.partition("\n")
        line = line.rstrip()
        if line == "end" and not body.strip():
            continue
        if line.startswith("banner ") and _banner_delim(line) is not None:
            node = _children_add(children, Node(line))
            rest = "\n".join([*([body] if body else []), *chunks[i:]])
            tail = rest[_banner_text(node, rest, 0) :]
            chunks, i = (_TOP_SPLIT.split(tail) if tail else []), 0
        elif body.strip():
            children.append(Node(line, raw=body))
        else:
            children.append(Node(line))


def _children_add(children: list[Node], node: Node) -> Node:
    """Append ``node`` to a children list; returns it."""
    children.append(node)
    return node


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
    delim = _banner_delim(node.text)
    if delim is None:
        return i
    while i < len(lines):
        line = lines[i].rstrip("\r")
        i += 1
        node.add(Node(line))
        if delim in line:
            break
    return i


def _banner_text(node: Node, text: str, pos: int) -> int:
    """Read a banner body from ``text`` at ``pos`` into ``node``; the offset after it."""
    delim = _banner_delim(node.text)
    if delim is None:
        return pos
    while pos < len(text):
        end = text.find("\n", pos)
        end = len(text) if end < 0 else end
        line = text[pos:end]
        node.add(Node(line))
        pos = end + 1
        if delim in line:
            break
    return pos


def _banner_delim(text: str) -> str | None:
    """The delimiter of a multi-line banner (``banner motd ^C``), None if on one line."""
    parts = text.split(None, 2)
    if len(parts) < 3:
        return None
    rest = parts[2]
    delim = "^C" if rest.startswith("^C") else rest[0]
    if rest.count(delim) >= 2 or (rest.endswith(delim) and len(rest) > len(delim)):
        return None
    return delim


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

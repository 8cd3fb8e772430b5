"""Diffs between two configuration texts: unified (the default) and hierarchical.

The unified diff is difflib's, with ``added``/``removed`` line counts. The hierarchical
diff (Cisco-style indentation, Junos braces) shows each changed line under its parents,
which appear as context even when they are far away in the text, e.g.::

      interface GigabitEthernet0/1
    -  description access
    +  description uplink

It uses the small tree of ``netfleet.configs.hierarchy``: fast, no dependency, and it
compares children per parent, so moving a whole block is not reported line by line.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from difflib import SequenceMatcher

from netfleet.configs.hierarchy import INDENT, Node, Style, line_text, parse, style_of


@dataclass(frozen=True, slots=True)
class Diff:
    """A diff text with the number of lines it adds and removes."""

    text: str
    added: int
    removed: int

    @property
    def changed(self) -> bool:
        return bool(self.added or self.removed)


def unified_diff(
    old: str, new: str, *, old_name: str = "a", new_name: str = "b", context: int = 3
) -> Diff:
    """The unified diff from ``old`` to ``new`` ("" when equal), line endings ignored."""
    a = old.replace("\r\n", "\n").splitlines()
    b = new.replace("\r\n", "\n").splitlines()
    lines = list(difflib.unified_diff(a, b, old_name, new_name, n=context, lineterm=""))
    added = removed = 0
    for line in lines[2:]:
        if line.startswith("+"):
            added += 1
        elif line.startswith("-"):
            removed += 1
    text = "\n".join(lines) + "\n" if lines else ""
    return Diff(text=text, added=added, removed=removed)


def line_counts(old: str, new: str) -> tuple[int, int]:
    """(added, removed) lines from ``old`` to ``new``, without building the diff text."""
    a = old.replace("\r\n", "\n").splitlines()
    b = new.replace("\r\n", "\n").splitlines()
    added = removed = 0
    for tag, i1, i2, j1, j2 in SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag != "equal":
            removed += i2 - i1
            added += j2 - j1
    return added, removed


def hierarchical_diff(old: str, new: str, style: Style, *, indent: int = 0) -> Diff:
    """Changed lines with their parents as context (``+``, ``-``, two-space context).

    ``indent`` is the number of spaces per level shown (default 1, Junos 4). Compare
    normalised texts, or volatile lines show up as changes.
    """
    return tree_diff(parse(old, style), parse(new, style), style, indent=indent)


def tree_diff(old: Node, new: Node, style: Style, *, indent: int = 0) -> Diff:
    """The hierarchical diff of two parsed trees."""
    out: list[str] = []
    counts = [0, 0]
    step = indent or (4 if style == "braces" else 1)
    _diff_children(old, new, _Ctx(style, step, out, counts), 0)
    text = "\n".join(out) + "\n" if out else ""
    return Diff(text=text, added=counts[0], removed=counts[1])


@dataclass(slots=True)
class _Ctx:
    style: Style
    step: int
    out: list[str]
    counts: list[int]


def _diff_children(old: Node, new: Node, ctx: _Ctx, depth: int) -> None:
    banner = old.text.startswith("banner ")
    a = [c.text for c in old.children]
    b = [c.text for c in new.children]
    if a == b:
        for x, y in zip(old.children, new.children, strict=True):
            _diff_pair(x, y, ctx, depth, banner)
        return
    matcher = SequenceMatcher(None, a, b, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            for x, y in zip(old.children[i1:i2], new.children[j1:j2], strict=True):
                _diff_pair(x, y, ctx, depth, banner)
            continue
        for x in old.children[i1:i2]:
            _subtree(x, "-", ctx, depth, banner)
        for y in new.children[j1:j2]:
            _subtree(y, "+", ctx, depth, banner)


def _diff_pair(x: Node, y: Node, ctx: _Ctx, depth: int, banner: bool) -> None:
    if x.same_block(y) or (not x.children and not y.children):
        return
    mark = len(ctx.out)
    _diff_children(x, y, ctx, depth + 1)
    if len(ctx.out) > mark:
        line = line_text(y, ctx.style, depth, ctx.step, is_banner=banner)
        ctx.out.insert(mark, "  " + line)


def _subtree(node: Node, sign: str, ctx: _Ctx, depth: int, banner: bool) -> None:
    ctx.out.append(f"{sign} " + line_text(node, ctx.style, depth, ctx.step, is_banner=banner))
    ctx.counts[0 if sign == "+" else 1] += 1
    inner = node.text.startswith("banner ")
    for c in node.children:
        _subtree(c, sign, ctx, depth + 1, inner)


def config_diff(
    old: str, new: str, platform: str = "", *, hierarchical: bool = False, context: int = 3
) -> Diff:
    """The unified diff, or with ``hierarchical`` the tree diff where ``platform`` has one.

    ``platform`` is a platform name or family (``cisco_ios``, ``juniper_junos`` ...);
    flat platforms (Linux) fall back to the unified diff.
    """
    style = style_of(platform) if hierarchical else None
    if style is None:
        return unified_diff(old, new, context=context)
    return hierarchical_diff(old, new, style, indent=INDENT.get(platform, 1))

"""Diffs between two configuration texts: unified (the default) and hierarchical.

The unified diff is difflib's, with ``added``/``removed`` line counts; unchanged leading
and trailing lines are set aside before difflib's matcher runs on the rest. The hierarchical
diff (Cisco-style indentation, Junos braces) shows each changed line under its parents,
which appear as context even when they are far away in the text, e.g.::

      interface GigabitEthernet0/1
    -  description access
    +  description uplink

It uses the small tree of ``netfleet.configs.hierarchy``: fast, no dependency, and it
compares children per parent, so moving a whole block is not reported line by line.
"""

from __future__ import annotations

from dataclasses import dataclass
from difflib import SequenceMatcher

from netfleet.configs.compress import common_edges
from netfleet.configs.edges import text_edges
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
    sides = _sides(old, new, context)
    ops = _ops(sides, autojunk=True)
    if all(op[0] == "equal" for op in ops):
        return Diff(text="", added=0, removed=0)
    a, b, off = sides.a, sides.b, sides.offset
    lines = [f"--- {old_name}", f"+++ {new_name}"]
    added = removed = 0
    for group in _groups(ops, context):
        first, last = group[0], group[-1]
        lines.append(f"@@ -{_range(first[1], last[2])} +{_range(first[3], last[4])} @@")
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                lines.extend(" " + line for line in a[i1 - off : i2 - off])
                continue
            lines.extend("-" + line for line in a[i1 - off : i2 - off])
            lines.extend("+" + line for line in b[j1 - off : j2 - off])
            removed += i2 - i1
            added += j2 - j1
    return Diff(text="\n".join(lines) + "\n", added=added, removed=removed)


_OTHER_BREAKS = ("\r", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029")
"""Line breaks of ``str.splitlines`` besides ``\\n``."""


@dataclass(frozen=True, slots=True)
class _Sides:
    """The lines of two texts that a diff may show: line ``i`` of the old text is
    ``a[i - offset]`` (of the new ``b[i - offset]``) for the changed lines and their
    context; ``head``/``tail`` shared lines, ``la``/``lb`` lines in all."""

    a: list[str]
    b: list[str]
    offset: int
    head: int
    tail: int
    la: int
    lb: int


def _sides(old: str, new: str, keep: int) -> _Sides:
    """The lines of ``old`` and ``new`` (``splitlines`` after CR LF to LF); where the
    only line break is LF, the shared edges are found on the texts (``text_edges``) and
    only the lines between them and ``keep`` lines around are split."""
    if "\r" in old or "\r" in new:
        old, new = old.replace("\r\n", "\n"), new.replace("\r\n", "\n")
    if not old or not new or any(c in old or c in new for c in _OTHER_BREAKS):
        a, b = old.splitlines(), new.splitlines()
        head, tail = common_edges(a, b)
        return _Sides(a, b, 0, head, tail, len(a), len(b))
    # without other breaks, splitlines is split("\n") less the empty line after a last LF
    e = text_edges(old.removesuffix("\n"), new.removesuffix("\n"), keep)
    off = e.head - len(e.before)
    return _Sides(
        e.before + e.old_mid + e.after,
        e.before + e.new_mid + e.after,
        off,
        e.head,
        e.tail,
        e.old_lines,
        e.new_lines,
    )


Op = tuple[str, int, int, int, int]


def _groups(ops: list[Op], n: int) -> list[list[Op]]:
    """Hunks: the changes with up to ``n`` lines of context, runs of more than ``2n``
    unchanged lines between them splitting hunks."""
    ops = list(ops)
    tag, i1, i2, j1, j2 = ops[0]
    if tag == "equal":
        ops[0] = (tag, max(i1, i2 - n), i2, max(j1, j2 - n), j2)
    tag, i1, i2, j1, j2 = ops[-1]
    if tag == "equal":
        ops[-1] = (tag, i1, min(i2, i1 + n), j1, min(j2, j1 + n))
    groups: list[list[Op]] = []
    group: list[Op] = []
    for tag, i1, i2, j1, j2 in ops:
        if tag == "equal" and i2 - i1 > 2 * n:
            group.append((tag, i1, min(i2, i1 + n), j1, min(j2, j1 + n)))
            groups.append(group)
            group = []
            i1, j1 = max(i1, i2 - n), max(j1, j2 - n)
        group.append((tag, i1, i2, j1, j2))
    if group and not (len(group) == 1 and group[0][0] == "equal"):
        groups.append(group)
    return groups


def _range(start: int, stop: int) -> str:
    """A hunk range of unified diff format: ``start,length`` (1-based; 0-based if empty)."""
    length = stop - start
    if length == 1:
        return str(start + 1)
    return f"{start + 1 if length else start},{length}"


def _ops(sides: _Sides, *, autojunk: bool) -> list[Op]:
    """difflib's opcodes from ``a`` to ``b``, with the unchanged leading and trailing lines
    set aside first: a typical change touches a few lines in the middle of a long text,
    and the matcher costs far more than finding them. The result is difflib's for such
    edits; where lines repeat near the edges difflib may align a changed line with an
    edge line instead, and this keeps the edges unchanged (an equally valid diff)."""
    head, tail, la, lb = sides.head, sides.tail, sides.la, sides.lb
    lo = head - sides.offset
    a_mid = sides.a[lo : lo + la - head - tail]
    b_mid = sides.b[lo : lo + lb - head - tail]
    ops: list[Op] = []
    if head:
        ops.append(("equal", 0, head, 0, head))
    middle = SequenceMatcher(None, a_mid, b_mid, autojunk=autojunk)
    for tag, i1, i2, j1, j2 in middle.get_opcodes():
        if tag == "equal" and ops and ops[-1][0] == "equal":  # only next to an empty side
            _, p1, _p2, q1, _q2 = ops.pop()
            ops.append(("equal", p1, i2 + head, q1, j2 + head))
            continue
        ops.append((tag, i1 + head, i2 + head, j1 + head, j2 + head))
    if tail:
        if ops and ops[-1][0] == "equal":
            _, p1, _p2, q1, _q2 = ops.pop()
            ops.append(("equal", p1, la, q1, lb))
        else:
            ops.append(("equal", la - tail, la, lb - tail, lb))
    return ops or [("equal", 0, 0, 0, 0)]


def line_counts(old: str, new: str) -> tuple[int, int]:
    """(added, removed) lines from ``old`` to ``new``, without building the diff text."""
    added = removed = 0
    for tag, i1, i2, j1, j2 in _ops(_sides(old, new, 0), autojunk=False):
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

"""Predict what pushing configuration lines does to an IOS-like running configuration.

For IOS/XE, NX-OS, EOS and ASA, which have no candidate diff of their own: the lines are
placed where a user typing them in configuration mode would put them, then each is found
``present``, ``new``, ``replaced`` (a single-valued setting such as ``hostname``,
``description`` or ``ip address`` in the same parent, or a negated line), ``removed``
(``no X`` with X configured) or ``absent`` (``no X`` with nothing to remove).

Where a line goes: with any indented line in the change, indentation decides (as in the
running config). Otherwise sub-modes follow the commands that enter them (``interface
Gi0/1`` then ``description x``), ``exit`` and ``end``; an unindented global command
(``hostname``, ``ntp server`` ... or a command the running config has only at the top)
leaves the sub-mode, as IOS does. The result is a prediction, and says so: the device's
parser, defaults and abbreviations can differ.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from netfleet.configs.hierarchy import INDENT, Node, parse, style_of
from netfleet.configs.predict_rules import (
    EXITS,
    TOP_COMMANDS,
    TOP_MODES,
    enters_mode,
    replace_key,
)
from netfleet.core.errors import ValidationError

Status = Literal["new", "present", "replaced", "removed", "absent"]

NOTE = (
    "! Predicted by netfleet from the running configuration, not the device's own diff;"
    " the device may differ (defaults, abbreviations, ordering)."
)

PLATFORMS = ("cisco_ios", "cisco_xe", "cisco_nxos", "arista_eos", "cisco_asa")
"""Platform families predicted here; Junos and IOS-XR show the device's candidate diff."""

_SAMPLE = 8
"""Blocks of one kind sampled to learn which commands exist under that kind."""

_ENTER_CONFIG = ("configure terminal", "configure", "config t", "conf t", "configure t")


@dataclass(frozen=True, slots=True)
class PredictedLine:
    """One pushed line, where it goes and what it does."""

    parents: tuple[str, ...]
    line: str
    status: Status
    old: tuple[str, ...] = ()
    """The lines it replaces or removes (subtrees flattened, indented one space a level)."""


@dataclass(frozen=True, slots=True)
class Prediction:
    """The predicted effect of a change; ``text`` is the rendered diff with its note."""

    platform: str
    items: tuple[PredictedLine, ...]
    text: str
    added: int
    removed: int
    config: Node = field(repr=False, compare=False)
    """The predicted running configuration (a tree)."""

    def count(self, status: Status) -> int:
        """How many pushed lines have ``status``."""
        return sum(1 for item in self.items if item.status == status)

    @property
    def changed(self) -> bool:
        return bool(self.added or self.removed)


def predict(running: str, lines: str | Sequence[str], platform: str) -> Prediction:
    """Predict pushing ``lines`` (text or list, as typed in config mode) onto ``running``.

    ``platform`` is a platform name or family among ``PLATFORMS``; raises
    ``ValidationError`` for others.
    """
    if platform not in PLATFORMS:
        raise ValidationError(
            f"no predicted diff for platform {platform!r}; predicted platforms: "
            + ", ".join(PLATFORMS)
        )
    style = style_of(platform) or "indent"
    root = parse(running, style)
    pushed = lines.splitlines() if isinstance(lines, str) else list(lines)
    placed = _Placer(root).place(pushed)
    items = tuple(_apply(root, parents, line) for parents, line in placed)
    text, added, removed = _render(items, INDENT.get(platform, 1))
    return Prediction(platform, items, text, added, removed, root)


class _Placer:
    """Decides the parents of each pushed line."""

    def __init__(self, root: Node) -> None:
        self.root = root
        self._top_words: set[str] | None = None
        self._top_pairs: set[str] = set()
        self._child_words: dict[str, set[str]] = {}

    def place(self, raw_lines: Iterable[str]) -> list[tuple[tuple[str, ...], str]]:
        cleaned = [r.rstrip() for r in raw_lines]
        cleaned = [r for r in cleaned if r.strip() and not r.lstrip().startswith("!")]
        indented = any(r[0] in " \t" for r in cleaned)
        out: list[tuple[tuple[str, ...], str]] = []
        stack: list[tuple[int, str]] = []
        for raw in cleaned:
            body = " ".join(raw.split())
            if body in _ENTER_CONFIG:
                continue
            if body == "end":
                stack.clear()
                continue
            if body in EXITS:
                if stack:
                    stack.pop()
                continue
            if indented:
                indent = len(raw) - len(raw.lstrip())
                while stack and stack[-1][0] >= indent:
                    stack.pop()
                parents = tuple(text for _, text in stack)
                out.append((parents, body))
                stack.append((indent, body))
                continue
            parents = tuple(text for _, text in stack)
            depth = self._depth(parents, body)
            parents = parents[:depth]
            out.append((parents, body))
            del stack[depth:]
            if enters_mode(parents, body) or self._has_children(parents, body):
                stack.append((0, body))
        return out

    def _depth(self, parents: tuple[str, ...], body: str) -> int:
        if not parents:
            return 0
        if len(parents) > 1 and enters_mode(parents[:1], body):
            return 1
        if enters_mode(parents, body) or self._has_children(parents, body):
            return len(parents)
        plain = body[3:] if body.startswith("no ") else body
        if TOP_MODES.match(plain) or TOP_COMMANDS.match(plain) or self._only_global(parents, body):
            return 0
        return len(parents)

    def _has_children(self, parents: tuple[str, ...], body: str) -> bool:
        node: Node | None = self.root
        for text in (*parents, body):
            node = node.child(text) if node is not None else None
        return node is not None and bool(node.children)

    def _only_global(self, parents: tuple[str, ...], body: str) -> bool:
        """The running config has this command at the top and never under this kind."""
        if self._top_words is None:
            texts = [c.text[3:] if c.text.startswith("no ") else c.text for c in self.root.children]
            self._top_words = {t.partition(" ")[0] for t in texts}
            self._top_pairs = {" ".join(t.split(None, 2)[:2]) for t in texts}
        words = _words(body)
        if " ".join(words[:2]) in self._top_pairs and len(words) > 1:
            return True
        if words[0] not in self._top_words:
            return False
        return words[0] not in self._kind_words(_words(parents[0])[0])

    def _kind_words(self, kind: str) -> set[str]:
        """First words of lines under blocks of this kind (the first ``_SAMPLE`` blocks)."""
        words = self._child_words.get(kind)
        if words is None:
            words = set()
            seen = 0
            for c in self.root.children:
                if seen < _SAMPLE and (c.text.startswith(kind + " ") or c.text == kind):
                    seen += 1
                    words.update(_words(n.text)[0] for _, n in c.walk())
            self._child_words[kind] = words
        return words


def _words(text: str) -> list[str]:
    words = text.split()
    if words and words[0] == "no" and len(words) > 1:
        words = words[1:]
    return words or [""]


def _apply(root: Node, parents: tuple[str, ...], line: str) -> PredictedLine:
    parent = root
    for text in parents:
        child = parent.child(text)
        parent = child if child is not None else parent.add(Node(text))
    if parent.child(line) is not None:
        return PredictedLine(parents, line, "present")
    if line.startswith("no "):
        target = line[3:]
        gone = [c for c in parent.children if c.text == target or c.text.startswith(target + " ")]
        if not gone:
            return PredictedLine(parents, line, "absent")
        for c in gone:
            parent.remove(c)
        return PredictedLine(parents, line, "removed", _flatten(gone))
    key = replace_key(line)
    negated = "no " + line
    first = _words(line)[0]
    old = [
        c
        for c in parent.children
        if c.text == negated
        or (key is not None and _words(c.text)[0] == first and replace_key(c.text) == key)
    ]
    new = Node(line)
    if not old:
        parent.add(new)
        return PredictedLine(parents, line, "new")
    parent.replace(old[0], new)
    for c in old[1:]:
        parent.remove(c)
    return PredictedLine(parents, line, "replaced", _flatten(old))


def _flatten(nodes: list[Node]) -> tuple[str, ...]:
    out: list[str] = []
    for node in nodes:
        out.append(node.text)
        out.extend(" " * (depth + 1) + n.text for depth, n in node.walk())
    return tuple(out)


def _render(items: tuple[PredictedLine, ...], step: int) -> tuple[str, int, int]:
    out: list[str] = []
    added = removed = 0
    shown: tuple[str, ...] = ()
    counts = dict.fromkeys(("new", "replaced", "removed", "present", "absent"), 0)
    for i, item in enumerate(items):
        counts[item.status] += 1
        opens = i + 1 < len(items) and items[i + 1].parents[: len(item.parents) + 1] == (
            *item.parents,
            item.line,
        )
        if item.parents != shown:
            common = 0
            while (
                common < min(len(shown), len(item.parents))
                and shown[common] == item.parents[common]
            ):
                common += 1
            for depth in range(common, len(item.parents)):
                out.append("  " + " " * (depth * step) + item.parents[depth])
            shown = item.parents
        pad = " " * (len(item.parents) * step)
        for old in item.old:
            lead = len(old) - len(old.lstrip())
            out.append("- " + pad + " " * (lead * step) + old.lstrip())
            removed += 1
        if item.status in ("new", "replaced"):
            out.append("+ " + pad + item.line)
            added += 1
        elif item.status == "present" and opens:
            out.append(f"  {pad}{item.line}")
        elif item.status != "removed":
            note = "already present" if item.status == "present" else "nothing to remove"
            out.append(f"  {pad}{item.line}  ! {note}")
        shown = (*item.parents, item.line) if _opens(item) else item.parents
    summary = ", ".join(
        f"{n} {s if s != 'present' else 'already present'}" for s, n in counts.items() if n
    )
    head = f"{NOTE}\n! {summary or 'no lines'}\n"
    return head + "\n".join(out) + ("\n" if out else ""), added, removed


def _opens(item: PredictedLine) -> bool:
    """Whether later lines under this one need no repeated context line."""
    return item.status in ("new", "replaced", "present")

"""Keyword trees with abbreviation matching, as network CLIs parse commands.

A tree is built from phrases such as ``"show ip interface brief"`` or
``"terminal length <arg>"``. Each input word may be any unambiguous prefix of
a keyword. ``<arg>`` matches one word, ``<rest>`` the rest of the line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Generic, TypeVar

H = TypeVar("H")

ARG = "<arg>"
REST = "<rest>"


@dataclass(slots=True)
class _Node(Generic[H]):
    children: dict[str, _Node[H]] = field(default_factory=dict)
    handler: H | None = None


@dataclass(frozen=True, slots=True)
class Match(Generic[H]):
    """A complete command: its handler and the words matched by ``<arg>``/``<rest>``."""

    handler: H
    args: tuple[str, ...]
    words: tuple[str, ...]
    """The expanded keywords and arguments."""


@dataclass(frozen=True, slots=True)
class Invalid:
    """No keyword matches the word starting at ``column`` of the line."""

    column: int


@dataclass(frozen=True, slots=True)
class Ambiguous:
    """A word is a prefix of several keywords."""

    column: int


@dataclass(frozen=True, slots=True)
class Incomplete:
    """The line ends before a complete command."""


Parse = Match[H] | Invalid | Ambiguous | Incomplete


def tokenize(line: str) -> list[tuple[int, str]]:
    """Split ``line`` into words with their start columns."""
    out: list[tuple[int, str]] = []
    i, n = 0, len(line)
    while i < n:
        while i < n and line[i] in " \t":
            i += 1
        if i >= n:
            break
        start = i
        while i < n and line[i] not in " \t":
            i += 1
        out.append((start, line[start:i]))
    return out


class CommandTree(Generic[H]):
    """Keyword tree mapping command phrases to handlers."""

    def __init__(self, phrases: dict[str, H] | None = None) -> None:
        self._root: _Node[H] = _Node()
        for phrase, handler in (phrases or {}).items():
            self.add(phrase, handler)

    def add(self, phrase: str, handler: H) -> None:
        """Register ``phrase`` (keywords, ``<arg>``, trailing ``<rest>``)."""
        node = self._root
        for word in phrase.split():
            node = node.children.setdefault(word, _Node())
        node.handler = handler

    def keywords(self) -> list[str]:
        """The first words of all phrases."""
        return [k for k in self._root.children if k not in (ARG, REST)]

    def completions(self, line: str, column: int) -> list[str]:
        """Keywords that could complete the word starting at ``column`` of ``line``."""
        node = self._root
        for _, word in tokenize(line[:column]):
            key = _pick(node, word)
            if not isinstance(key, str):
                return []
            node = node.children[key]
        partial = line[column:].split()[0].lower() if line[column:].split() else ""
        return sorted(k for k in node.children if k.startswith(partial) and k not in (ARG, REST))

    def parse(self, line: str) -> Parse[H]:
        """Match ``line`` against the tree."""
        node = self._root
        args: list[str] = []
        words: list[str] = []
        tokens = tokenize(line)
        for pos, (column, word) in enumerate(tokens):
            rest = node.children.get(REST)
            key = _pick(node, word)
            if isinstance(key, Ambiguous):
                return Ambiguous(column)
            if key is None:
                if rest is not None:
                    text = line[column:].strip()
                    args.append(text)
                    words.append(text)
                    node = rest
                    break
                arg = node.children.get(ARG)
                if arg is None:
                    return Invalid(column)
                args.append(word)
                words.append(word)
                node = arg
                continue
            words.append(key)
            node = node.children[key]
            if pos == len(tokens) - 1:
                break
        if node.handler is None:
            return Incomplete()
        return Match(node.handler, tuple(args), tuple(words))


def _pick(node: _Node[H], word: str) -> str | Ambiguous | None:
    low = word.lower()
    if low in node.children and low not in (ARG, REST):
        return low
    hits = [k for k in node.children if k not in (ARG, REST) and k.startswith(low)]
    if len(hits) == 1:
        return hits[0]
    if len(hits) > 1:
        return Ambiguous(0)
    return None


def resolve_keyword(word: str, keywords: list[str] | tuple[str, ...]) -> str | Ambiguous | None:
    """Expand ``word`` to one of ``keywords`` (exact or unique prefix)."""
    low = word.lower()
    if low in keywords:
        return low
    hits = [k for k in keywords if k.startswith(low)]
    if len(hits) == 1:
        return hits[0]
    if len(hits) > 1:
        return Ambiguous(0)
    return None

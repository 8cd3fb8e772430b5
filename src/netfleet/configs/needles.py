"""Literal prefixes of anchored line rules, so that only candidate lines meet a regex.

``needles(pattern)`` reads a rule's pattern (RE2 syntax, anchored with ``^``) and returns
a set of literal strings such that every line the pattern matches starts with one of
them, e.g. ``^! Last configuration change at `` gives itself and
``^ntp clock-period (\\d+)$`` gives ``ntp clock-period ``. It understands a small, safe
subset (literals, escaped punctuation, ``\\d``, plain character classes, groups,
alternation, quantifiers) and stops at anything else: a prefix cut short is still a
required prefix. It returns None when no non-empty prefix is required (the rule must be
tried on every line), e.g. for case-insensitive patterns or ``^(?:x)?``.

>>> needles(r"^Building configuration\\.\\.\\.$")
('Building configuration...',)
>>> needles(r"^(?:ab|c)d")
('abd', 'cd')
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

MAX_NEEDLES = 16
"""Above this many alternatives the prefixes are cut to fewer characters."""
_MAX_CLASS = 16
_SPECIAL = frozenset("\\^$.|?*+()[]{}")
_DIGITS = "0123456789"


@dataclass(slots=True)
class _Seq:
    """Prefixes of one alternative so far; ``open`` while they may still grow."""

    prefixes: set[str]
    open: bool = True


class _Unknown(Exception):
    """The pattern leaves the understood subset where prefixes cannot be cut safely."""


def needles(pattern: str) -> tuple[str, ...] | None:
    """Sorted literal prefixes, one of which starts every match of ``pattern``; None when
    there is no useful set (try the rule on every line)."""
    found = _needles(pattern)
    return None if found is None else found[0]


def literal(pattern: str) -> tuple[str, ...] | None:
    """The strings ``pattern`` matches at a line start when it is nothing but literals
    (``^abc``, ``^(?:ab|c)d``): a line matches if and only if it starts with one of them.
    None otherwise."""
    found = _needles(pattern)
    if found is None or not found[1]:
        return None
    return found[0]


def _needles(pattern: str) -> tuple[tuple[str, ...], bool] | None:
    if not pattern.startswith("^"):
        return None
    body = pattern[1:]
    if "(?" in body.replace("(?:", "").replace("(?P<", "").replace("(?<", ""):
        return None  # inline flags such as (?i) change what a literal matches
    try:
        prefixes, complete, end = _alternation(body, 0)
    except (_Unknown, IndexError, ValueError):
        return None
    if end != len(body) or not prefixes or "" in prefixes:
        return None
    return minimal_needles(prefixes), complete


def minimal_needles(prefixes: Iterable[str]) -> tuple[str, ...]:
    """Drop prefixes that another, shorter one already covers."""
    out: list[str] = []
    for p in sorted(prefixes, key=len):
        if not any(p.startswith(q) for q in out):
            out.append(p)
    return tuple(sorted(out))


def common_prefix(strings: Iterable[str]) -> str:
    """The longest string that starts every one of ``strings`` ("" for none)."""
    items = list(strings)
    if not items:
        return ""
    low, high = min(items), max(items)  # the sorted extremes share the common prefix
    n = 0
    while n < min(len(low), len(high)) and low[n] == high[n]:
        n += 1
    return low[:n]


def _alternation(s: str, i: int) -> tuple[set[str], bool, int]:
    """Prefixes of ``a|b|...`` from ``i`` up to ``)`` or the end; ``complete`` when every
    alternative was read as a whole literal (so what follows may extend them)."""
    result: set[str] = set()
    complete = True
    while True:
        seq, i = _sequence(s, i)
        result |= seq.prefixes
        complete = complete and seq.open
        if i < len(s) and s[i] == "|":
            i += 1
            continue
        return result, complete, i


def _sequence(s: str, i: int) -> tuple[_Seq, int]:
    seq = _Seq({""})
    while i < len(s) and s[i] not in "|)":
        atom, complete, i = _atom(s, i)
        low, high, i = _quantifier(s, i)
        if not seq.open:
            continue
        if atom is None:
            seq.open = False
            continue
        grown = {p + a for p in seq.prefixes for a in atom}
        if low == 0:
            grown |= seq.prefixes
        fits = len(grown) <= MAX_NEEDLES
        short = grown if fits else _shorter(grown)
        if short is None:
            seq.open = False
            continue
        seq.prefixes = short
        seq.open = fits and complete and high == 1 and low <= 1
    return seq, i


def _shorter(prefixes: set[str]) -> set[str] | None:
    """``prefixes`` cut to the longest length at which at most MAX_NEEDLES remain."""
    for k in range(max(map(len, prefixes)) - 1, 0, -1):
        cut = {p[:k] for p in prefixes}
        if len(cut) <= MAX_NEEDLES:
            return cut
    return None


def _atom(s: str, i: int) -> tuple[set[str] | None, bool, int]:
    """(literal alternatives or None when not understood, whole, next index)."""
    c = s[i]
    if c == "\\":
        e = s[i + 1]
        if e == "d":
            return set(_DIGITS), True, i + 2
        if not e.isalnum():
            return {e}, True, i + 2
        if e in "pP":  # \pN or \p{Greek}
            j = s.index("}", i) + 1 if s[i + 2] == "{" else i + 3
            return None, False, j
        if e == "Q":
            raise _Unknown
        return None, False, i + 2
    if c == "[":
        return _char_class(s, i)
    if c == "(":
        j = i + 1
        if s.startswith("?:", j):
            j += 2
        elif s.startswith("?P<", j) or s.startswith("?<", j):
            j = s.index(">", j) + 1
        elif s.startswith("?", j):
            raise _Unknown
        inner, complete, j = _alternation(s, j)
        if j >= len(s) or s[j] != ")":
            raise _Unknown
        return (inner or None), complete, j + 1
    if c in "$^.":
        return None, False, i + 1
    if c in _SPECIAL:
        raise _Unknown  # a quantifier with nothing before it, or an unmatched bracket
    return {c}, True, i + 1


def _char_class(s: str, i: int) -> tuple[set[str] | None, bool, int]:
    j = i + 1
    negated = j < len(s) and s[j] == "^"
    if negated:
        j += 1
    chars: set[str] = set()
    plain = not negated
    first = True
    while True:
        c = s[j]
        if c == "]" and not first:
            break
        first = False
        if c == "[" and s.startswith("[:", j):
            j = s.index(":]", j) + 2
            plain = False
            continue
        if c == "\\":
            e = s[j + 1]
            if e.isalnum():
                plain = False
                j += 2
                if e in "pP" and s[j] == "{":
                    j = s.index("}", j) + 1
                continue
            c, j = e, j + 1
        if s.startswith("-", j + 1) and s[j + 2] != "]":
            hi = s[j + 2]
            if hi == "\\":
                plain = False
                hi = s[j + 3]
                j += 1
            if ord(hi) - ord(c) > _MAX_CLASS:
                plain = False
            else:
                chars.update(chr(x) for x in range(ord(c), ord(hi) + 1))
            j += 3
            continue
        chars.add(c)
        j += 1
    if not plain or not chars or len(chars) > _MAX_CLASS:
        return None, False, j + 1
    return chars, True, j + 1


def _quantifier(s: str, i: int) -> tuple[int, int, int]:
    """(min, max, next index) of a quantifier at ``i`` (1, 1 when there is none); max -1
    for no bound."""
    if i >= len(s):
        return 1, 1, i
    c = s[i]
    if c == "?":
        low, high, i = 0, 1, i + 1
    elif c == "*":
        low, high, i = 0, -1, i + 1
    elif c == "+":
        low, high, i = 1, -1, i + 1
    elif c == "{":
        end = s.find("}", i)
        inner = s[i + 1 : end] if end > 0 else ""
        parts = inner.split(",")
        if not inner or len(parts) > 2 or not all(p.isdigit() for p in parts[:1]):
            return 1, 1, i  # not a repetition: RE2 reads ``{`` literally; _atom refuses it
        low = int(parts[0])
        high = low if len(parts) == 1 else (int(parts[1]) if parts[1] else -1)
        i = end + 1
    else:
        return 1, 1, i
    if i < len(s) and s[i] == "?":  # lazy: the same strings
        i += 1
    return low, high, i

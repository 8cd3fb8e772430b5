"""Fast literal search in long texts: look for a rare character of the needle first.

``str.find`` of a short needle walks the text a few characters at a time (about
1 ns per character); of a single character it is ``memchr`` (tens of times faster).
Device output rarely contains most characters of a secret-rule word or error text
(``k`` of ``key``, ``v`` of ``priv``, ``$`` of ``$9$``), so searching for that
character and comparing the needle around each hit costs almost nothing. When the
character turns out common in a text (more than ``MISS_MIN`` misses, and more
than one per ``MISS_SPAN`` characters scanned), the rest of it is searched for the
whole needle: never much slower than ``str.find`` alone.

``Needles`` finds the lines that contain any of several needles in one pass of an
automaton over the text (ASCII text and needles; otherwise one scan per needle). For
ASCII text and lower-case needles that is an Aho-Corasick automaton (``ahocorasick_rs``,
SIMD prefilter: ~8x faster than RE2's DFA here) run over the text's lower-cased bytes,
which keep every offset; otherwise a RE2 automaton over the text as it is.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache

import ahocorasick_rs
import re2

FREQUENT = " \n0e1t.a2i3n4o5s6r7l8c9dp-u:m/hgfbyvwkx,_jqz"
"""Characters of device output, lower-cased, from the most to the least frequent (a
rough ranking: configurations and ``show`` outputs); others count as rarer still."""
MISS_SPAN = 400
"""Characters ``str.find`` of a needle scans in about the time of one miss here."""
MISS_SLACK = 2000
"""Characters of slack for the ``MISS_SPAN`` rule: a few misses near the start are fine."""
MISS_MIN = 16
"""Misses always allowed (a text's first lines are no sample: headers, hashes)."""
SHORT = 8192
"""Texts shorter than this are searched with ``str.find`` alone (a few microseconds)."""


SAME_LINE = 8
"""Matches on one line ``Needles`` steps over before it searches again from the next line."""
SLICE = 65536
"""``Needles.line_starts_folded`` searches long texts in slices of this many bytes, so the
matches listed at once stay few (a hostile text may hold a needle every few bytes)."""


def rarest(needle: str) -> int:
    """Index of the rarest character of ``needle`` (by ``FREQUENT``); not cached (secret
    values are searched this way too)."""
    rank = len(FREQUENT)
    return max(range(len(needle)), key=lambda i: FREQUENT.find(needle[i]) % (rank + 1))


anchor = cache(rarest)
"""``rarest``, cached: for the needles of rules."""


def contains(text: str, needle: str, k: int | None = None) -> bool:
    """``needle in text``; for long texts by way of the needle's rarest character
    (``k``: its index, ``anchor(needle)`` when not given)."""
    if len(text) < SHORT:
        return needle in text
    return find(text, needle, anchor(needle) if k is None else k) >= 0


def find(text: str, needle: str, k: int, start: int = 0) -> int:
    """``text.find(needle, start)``, scanning for ``needle[k]`` first."""
    c = needle[k]
    at = text.find(c, start + k)
    misses = 0
    while at >= 0:
        if text.startswith(needle, at - k):
            return at - k
        misses += 1
        if misses > MISS_MIN and misses * MISS_SPAN > at - start + MISS_SLACK:
            return text.find(needle, at - k + 1)
        at = text.find(c, at + 1)
    return -1


def line_starts(text: str, needle: str, k: int, starts: set[int]) -> None:
    """Add to ``starts`` where every line of ``text`` that contains ``needle`` starts
    (``needle`` has no line break; ``k``: its ``anchor``). Linear: after a hit the search
    goes on at the next line."""
    if len(text) < SHORT:
        _line_starts(text, needle, 0, starts)
        return
    c = needle[k]
    size = len(needle)
    misses = 0
    at = text.find(c, k)  # where needle[k] is; the needle would start k before
    while at >= 0:
        begin = at - k
        if text.startswith(needle, begin):
            starts.add(text.rfind("\n", 0, begin) + 1)
            end = text.find("\n", begin + size)
            if end < 0:
                return
            at = text.find(c, end + 1 + k)
            continue
        misses += 1
        if misses > MISS_MIN and misses * MISS_SPAN > at + MISS_SLACK:  # a common character
            _line_starts(text, needle, begin + 1, starts)
            return
        at = text.find(c, at + 1)


def _line_starts(text: str, needle: str, at: int, starts: set[int]) -> None:
    at = text.find(needle, at)
    while at >= 0:
        starts.add(text.rfind("\n", 0, at) + 1)
        end = text.find("\n", at + len(needle))
        at = -1 if end < 0 else text.find(needle, end + 1)


CORE = 3
"""Characters of a needle's core (``_core``)."""


def _core(needle: str) -> str:
    """The part of ``needle`` (``CORE`` characters at most) with the fewest letters, the
    rarest of those (by ``FREQUENT``): every line with the needle has it, in some case."""
    size = min(CORE, len(needle))
    windows = [needle[i : i + size] for i in range(len(needle) - size + 1)]
    rank = len(FREQUENT) + 1

    def cost(window: str) -> tuple[int, int]:
        letters = sum(c.isalpha() for c in window)
        return letters, -sum(FREQUENT.find(c) % rank for c in window)

    return min(windows, key=cost)


def _cases(core: str) -> list[str]:
    """Every spelling of ``core`` in upper and lower case (ASCII)."""
    out = [""]
    for c in core:
        spellings = {c, c.upper()} if c.isalpha() else {c}
        out = [head + x for head in out for x in sorted(spellings)]
    return out


class Needles:
    """Several literal needles (none with a line break), searched for together."""

    __slots__ = ("_any", "_automaton", "_folded", "_full", "_longest", "_lowered", "needles")

    def __init__(self, needles: Sequence[str]) -> None:
        self.needles = tuple((n, anchor(n)) for n in needles)
        """Each needle with its ``anchor``."""
        ascii_only = needles and all(n.isascii() for n in needles)
        pattern = "|".join(re2.escape(n) for n in needles).encode("ascii") if ascii_only else b""
        self._automaton = re2.compile(pattern) if ascii_only else None
        lower = ascii_only and all(n == n.lower() for n in needles)
        self._lowered = tuple(needles)
        self._any = re.compile("|".join(map(re.escape, needles))) if needles else None
        """Any of the needles (one search of a candidate line, not one ``in`` per needle)."""
        cores = [_core(n) for n in needles] if lower else []
        self._longest = max(map(len, cores), default=1)
        variants = sorted({v for core in cores for v in _cases(core)})
        self._folded = (
            ahocorasick_rs.BytesAhoCorasick(
                [v.encode("ascii") for v in variants],
                matchkind=ahocorasick_rs.MatchKind.LeftmostFirst,
            )
            if lower
            else None
        )
        self._full = (
            ahocorasick_rs.BytesAhoCorasick(
                [n.encode("ascii") for n in needles],
                matchkind=ahocorasick_rs.MatchKind.LeftmostFirst,
            )
            if lower
            else None
        )

    def folds(self, text: str) -> bool:
        """``line_starts_folded`` applies to ``text`` (ASCII, needles in lower case)."""
        return self._folded is not None and text.isascii()

    def line_starts_folded(self, text: str, starts: set[int]) -> None:
        """``line_starts`` of ``text.lower()`` (``folds``: ASCII, where lower-casing maps
        A-Z alone and moves no offset), without lower-casing the text: the automaton
        finds every spelling of a short core of each needle (``_core``); only the lines
        with a core are lower-cased and searched for the needles. Linear: the automaton
        lists each slice's matches in C, and after a match the rest of its line is
        stepped over, one comparison a match."""
        automaton = self._folded
        assert automaton is not None
        any_needle = self._any
        assert any_needle is not None
        search = any_needle.search
        data = memoryview(text.encode("ascii"))
        size = len(data)
        end = -1  # the line break ending the last line looked at
        begin = 0
        misses = 0
        step = max(SLICE, 2 * self._longest)  # each slice moves on by a core at least
        while True:
            stop = min(size, begin + step)
            for _, at, _ in automaton.find_matches_as_indexes(data[begin:stop]):
                at += begin
                if at < end:
                    continue  # on the line looked at last
                start = text.rfind("\n", end + 1, at) + 1 or end + 1
                end = text.find("\n", at)
                low = text[start : len(text) if end < 0 else end].lower()
                if search(low) is not None:
                    starts.add(start)
                else:
                    misses += 1
                if end < 0:
                    return
                if misses > MISS_MIN and misses * MISS_SPAN > end + MISS_SLACK:
                    # Common cores: lower-case the rest and search it for the needles.
                    self._lowered_from(text, end + 1, starts)
                    return
                if end >= stop:
                    break  # the slice's other matches are on this line
            if stop == size:
                return
            # Slices overlap by a core less a character: none spans a cut unseen.
            begin = max(stop - self._longest + 1, end + 1)

    def _lowered_from(self, text: str, pos: int, starts: set[int]) -> None:
        """``line_starts_folded`` from ``pos`` (a line start), by the whole needles
        searched for in the lower-cased bytes."""
        automaton = self._full
        assert automaton is not None
        data = memoryview(text.encode("ascii").lower())
        size = len(data)
        end = pos - 1
        begin = pos
        step = max(SLICE, 2 * max(map(len, self._lowered)))
        while begin < size:
            stop = min(size, begin + step)
            for _, at, _ in automaton.find_matches_as_indexes(data[begin:stop]):
                at += begin
                if at < end:
                    continue
                starts.add(text.rfind("\n", end + 1, at) + 1 or end + 1)
                end = text.find("\n", at)
                if end < 0:
                    return
                if end >= stop:
                    break
            if stop == size:
                return
            begin = max(stop - step // 2, end + 1)

    def line_starts(self, text: str, starts: set[int]) -> None:
        """Add to ``starts`` where every line of ``text`` that contains a needle starts."""
        if self._automaton is None or not text.isascii():
            for needle, k in self.needles:
                line_starts(text, needle, k, starts)
            return
        data = text.encode("ascii")  # ASCII: byte offsets are character offsets
        pos = 0
        while pos >= 0:
            pos = self._from(text, data, pos, starts, self._automaton)

    def _from(
        self, text: str, data: bytes, pos: int, starts: set[int], automaton: re2._Regexp[bytes]
    ) -> int:
        """Scan from ``pos`` (a line start); return where to scan again (-1: done). Linear:
        a line with many matches is left after ``SAME_LINE`` of them."""
        end = pos - 1  # the line break ending the last line found
        same = 0
        for m in automaton.finditer(data, pos):
            at = m.start()
            if at < end:
                same += 1
                if same > SAME_LINE:
                    return end + 1
                continue
            starts.add(text.rfind("\n", end + 1, at) + 1 or end + 1)
            end = text.find("\n", at)
            if end < 0:
                return -1
            same = 0
        return -1

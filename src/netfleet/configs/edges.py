"""The unchanged leading and trailing lines of two texts, found on the texts themselves.

``common_edges`` of ``netfleet.configs.compress`` compares two lists of lines one line at
a time in Python; for a 50 KB configuration with a change in its middle that loop, and
splitting both texts into lines, cost more than the diff of what is left. ``text_edges``
gives the same answer from the texts: the common prefix and suffix are found by comparing
slices (C ``memcmp``, a block at a time, then halving the block that differs), and only
the lines between them are split.
"""

from __future__ import annotations

from dataclasses import dataclass

_BLOCK = 2048
"""Characters compared at a time before halving: a change is usually near one edge."""


def prefix_length(a: str, b: str) -> int:
    """Length of the longest common prefix of ``a`` and ``b``."""
    n = min(len(a), len(b))
    lo = 0
    while lo < n:
        hi = min(n, lo + _BLOCK)
        if a[lo:hi] == b[lo:hi]:
            lo = hi
            continue
        while hi - lo > 1:  # a[:lo] == b[:lo] and a[lo:hi] != b[lo:hi]
            mid = (lo + hi) // 2
            if a[lo:mid] == b[lo:mid]:
                lo = mid
            else:
                hi = mid
        return lo
    return n


def suffix_length(a: str, b: str, limit: int) -> int:
    """Length of the longest common suffix of ``a`` and ``b``, at most ``limit``."""
    n = min(len(a), len(b), limit)
    la, lb = len(a), len(b)
    lo = 0
    while lo < n:
        hi = min(n, lo + _BLOCK)
        if a[la - hi : la - lo] == b[lb - hi : lb - lo]:
            lo = hi
            continue
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if a[la - mid : la - lo] == b[lb - mid : lb - lo]:
                lo = mid
            else:
                hi = mid
        return lo
    return n


@dataclass(frozen=True, slots=True)
class Edges:
    """Two texts split on ``"\\n"``: ``head`` leading and ``tail`` trailing lines are
    the same in both (not overlapping); ``old_mid``/``new_mid`` are the lines between."""

    head: int
    tail: int
    old_mid: list[str]
    new_mid: list[str]
    old_lines: int
    new_lines: int
    before: list[str]
    """The last ``keep`` shared leading lines (fewer if there are fewer)."""
    after: list[str]
    """The first ``keep`` shared trailing lines."""


def text_edges(old: str, new: str, keep: int = 0) -> Edges:
    """``common_edges(old.split("\\n"), new.split("\\n"))``, the lines between and
    ``keep`` lines of context on either side, without splitting the other shared lines."""
    p = prefix_length(old, new)
    head = old.count("\n", 0, p)
    # the line that holds position p is shared if it ends there in both texts
    if (p == len(old) or old[p] == "\n") and (p == len(new) or new[p] == "\n"):
        head += 1
        start = p + 1
    else:
        start = old.rfind("\n", 0, p) + 1
    tail = 0
    old_end, new_end = len(old), len(new)
    if start > len(old) or start > len(new):  # all of one text is shared leading lines
        old_n = head if start > len(old) else head + old.count("\n", start) + 1
        new_n = head if start > len(new) else head + new.count("\n", start) + 1
    else:
        s = suffix_length(old, new, min(len(old), len(new)) - start)
        ob, nb = len(old) - s, len(new) - s  # where the common suffix starts
        tail = old.count("\n", ob)
        old_n = head + old.count("\n", start, ob) + tail + 1
        new_n = head + new.count("\n", start, nb) + tail + 1
        old_starts = ob == start or old[ob - 1] == "\n"
        if old_starts and (nb == start or new[nb - 1] == "\n"):
            tail += 1
            old_end, new_end = ob - 1, nb - 1
        elif tail:
            old_end = old.find("\n", ob)
            new_end = new.find("\n", nb)
    old_mid = old[start:old_end].split("\n") if old_n - head - tail > 0 else []
    new_mid = new[start:new_end].split("\n") if new_n - head - tail > 0 else []
    before: list[str] = []
    after: list[str] = []
    if keep and head:
        before = old[: start - 1].rsplit("\n", keep)[-min(keep, head) :]
    if keep and tail:
        after = old[old_end + 1 :].split("\n", keep)[: min(keep, tail)]
    return Edges(head, tail, old_mid, new_mid, old_n, new_n, before, after)

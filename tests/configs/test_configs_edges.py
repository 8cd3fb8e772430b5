"""Shared leading and trailing lines found on the texts (``text_edges``) are exactly the
ones the line-by-line scan (``common_edges``) finds."""

from __future__ import annotations

import zlib

from configs_samples import sample
from hypothesis import given, settings
from hypothesis import strategies as st

from netfleet.configs.compress import common_edges, pack_delta, unpack
from netfleet.configs.edges import prefix_length, suffix_length, text_edges


def expected(old: str, new: str) -> tuple[int, int, list[str], list[str]]:
    a, b = old.split("\n"), new.split("\n")
    head, tail = common_edges(a, b)
    return head, tail, a[head : len(a) - tail], b[head : len(b) - tail]


def check(old: str, new: str) -> None:
    edges = text_edges(old, new)
    got = (edges.head, edges.tail, edges.old_mid, edges.new_mid)
    assert got == expected(old, new), (old, new)
    assert (edges.old_lines, edges.new_lines) == (old.count("\n") + 1, new.count("\n") + 1)
    a = old.split("\n")
    for keep in (1, 3):
        around = text_edges(old, new, keep)
        assert around.before == a[max(0, edges.head - keep) : edges.head]
        assert around.after == a[len(a) - edges.tail : len(a) - edges.tail + keep][: edges.tail]


lines = st.lists(st.sampled_from(["", "a", "b", "ab", "!", " x", "a\r"]), max_size=12)


@settings(max_examples=600, deadline=None)
@given(lines, lines, lines)
def test_text_edges_match_the_line_scan(shared: list[str], one: list[str], two: list[str]) -> None:
    cut = len(shared) // 2
    old = "\n".join(shared[:cut] + one + shared[cut:])
    new = "\n".join(shared[:cut] + two + shared[cut:])
    check(old, new)
    check(new, old)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="ab\n", max_size=30), st.text(alphabet="ab\n", max_size=30))
def test_text_edges_of_any_two_texts(old: str, new: str) -> None:
    check(old, new)


def test_edge_cases() -> None:
    for old, new in [("", ""), ("", "\n"), ("a", "a"), ("a\n", "a"), ("a\nb", "b"), ("\n\n", "\n")]:
        check(old, new)
        check(new, old)


def test_a_long_text_with_changes_near_either_end() -> None:
    base = sample("ios_a") * 20  # long enough for several compared blocks
    lines = base.split("\n")
    for at in (0, 1, 5, len(lines) // 2, len(lines) - 3, len(lines) - 1):
        changed = [*lines[:at], "changed line", *lines[at + 1 :]]
        check(base, "\n".join(changed))
        check(base, "\n".join(lines[:at] + lines[at + 1 :]))


@given(st.text(alphabet="ab", max_size=5000), st.text(alphabet="ab", max_size=50))
def test_prefix_and_suffix_lengths(text: str, other: str) -> None:
    a, b = text + other, text + other[::-1]
    p = prefix_length(a, b)
    assert a[:p] == b[:p]
    assert p == min(len(a), len(b)) or a[p] != b[p]
    c, d = other + text, other[::-1] + text
    s = suffix_length(c, d, len(c))
    assert c[len(c) - s :] == d[len(d) - s :]
    assert s == min(len(c), len(d)) or c[-s - 1] != d[-s - 1]


@settings(max_examples=400, deadline=None)
@given(lines, lines, lines)
def test_a_delta_rebuilds_any_edit(shared: list[str], one: list[str], two: list[str]) -> None:
    cut = len(shared) // 2
    old = "\n".join(shared[:cut] + one + shared[cut:] + two)
    new = "\n".join(two + shared[:cut] + two + shared[cut:] + one)
    assert unpack(pack_delta(old, new), new) == old
    assert unpack(pack_delta(new, old), old) == new


def test_single_replaced_lines_are_walked_through() -> None:
    base = sample("ios_a").split("\n")
    edited = list(base)
    edited[2], edited[5] = "size changed", "time changed"
    edited.insert(40, "a new line")
    old, new = "\n".join(base), "\n".join(edited)
    assert unpack(pack_delta(old, new), new) == old
    script = zlib.decompress(pack_delta(new, old)[5:]).decode().split("\n")
    assert script[:8] == ["=2", "-1", "+1", "size changed", "=2", "-1", "+1", "time changed"]

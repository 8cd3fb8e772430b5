"""``netfleet.core.scan``: the rare-character search finds exactly what ``str.find`` finds."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netfleet.core import scan
from netfleet.core.scan import SHORT, Needles, anchor, contains, find, line_starts


def _naive_starts(text: str, needle: str) -> set[int]:
    out = set()
    start = 0
    for line in text.split("\n"):
        if needle in line:
            out.add(start)
        start += len(line) + 1
    return out


def test_anchor_is_the_rarest_character() -> None:
    assert "key"[anchor("key")] == "k"
    assert "priv"[anchor("priv")] == "v"
    assert "$9$"[anchor("$9$")] == "$"  # not in the ranking: rarest of all


# Texts long enough for the rare-character path, from an alphabet where the needles'
# characters are now rare, now common (then the search falls back to str.find).
_alphabets = st.sampled_from(["ab \n", "abkey \n", "kkkkke y\n", "xy$9 \n", "a" * 40 + "k\n"])


@st.composite
def _texts(draw: st.DrawFn) -> str:
    alphabet = draw(_alphabets)
    unit = draw(st.text(alphabet, min_size=1, max_size=300))
    filler = draw(st.text(alphabet, max_size=200))
    return (unit * (SHORT // len(unit) + 2))[: SHORT + draw(st.integers(0, 3000))] + filler


@given(_texts(), st.sampled_from(["key", "ke", "k", "$9$", "a k", "ey", "kkk"]))
@settings(max_examples=300, deadline=None)
def test_line_starts_matches_a_naive_line_scan(text: str, needle: str) -> None:
    starts: set[int] = set()
    line_starts(text, needle, anchor(needle), starts)
    assert starts == _naive_starts(text, needle)


@given(_texts(), st.sampled_from(["key", "k", "$9$", "yk", "a k"]), st.integers(0, 12000))
@settings(max_examples=300, deadline=None)
def test_find_is_str_find(text: str, needle: str, start: int) -> None:
    assert find(text, needle, anchor(needle), start) == text.find(needle, start)
    assert contains(text, needle) == (needle in text)


@pytest.mark.parametrize("common", [False, True])
def test_a_common_anchor_falls_back_to_str_find(
    common: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A text full of the anchor character is searched for the needle (no miss per hit)."""
    calls = {"anchor": 0}
    text = ("k" if common else "a") * 40_000 + "\nthe key\n"

    class Counting(str):
        def find(self, sub: str, *args: int) -> int:  # type: ignore[override]
            if sub == "k":
                calls["anchor"] += 1
            return super().find(sub, *args)

    starts: set[int] = set()
    line_starts(Counting(text), "key", 0, starts)
    assert starts == {40_001}
    assert calls["anchor"] <= scan.MISS_MIN + 2 + (0 if common else 1)


_NEEDLE_SETS = [("key", "ke", "$9$"), ("k", "a k"), ("key", "é"), ("ey", "kkk", "y\t")]


@given(
    st.one_of(_texts(), st.text("abkey é$9\n\t", max_size=400)),
    st.sampled_from(_NEEDLE_SETS),
)
@settings(max_examples=300, deadline=None)
def test_needles_find_every_line_any_needle_is_on(text: str, needles: tuple[str, ...]) -> None:
    """One automaton pass (ASCII), or a scan per needle, finds the lines a naive scan does."""
    starts: set[int] = set()
    Needles(needles).line_starts(text, starts)
    assert starts == set().union(*(_naive_starts(text, n) for n in needles))


@pytest.mark.parametrize("same_line", [0, 1, 8])
def test_needles_leave_a_line_with_many_matches_at_its_end(
    same_line: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A line full of needles is left after ``SAME_LINE`` matches, for the next line."""
    monkeypatch.setattr(scan, "SAME_LINE", same_line)
    text = "key" * 2_000 + "\nab\n$9$ key $9$\n" + "key " * 500
    starts: set[int] = set()
    Needles(("key", "$9$")).line_starts(text, starts)
    assert starts == {0, 6_004, 6_016}


@given(
    st.one_of(_texts(), st.text("abkeyKEYAB $9\n\t", max_size=400)),
    st.sampled_from([n for n in _NEEDLE_SETS if all(x.isascii() for x in n)]),
)
@settings(max_examples=300, deadline=None)
def test_folded_needles_find_the_lines_of_the_lowered_text(
    text: str, needles: tuple[str, ...]
) -> None:
    """The case-insensitive pass over ASCII text as it is finds what the pass over the
    lower-cased text finds."""
    found = Needles(needles)
    if not found.folds(text):
        assert not text.isascii()
        return
    starts: set[int] = set()
    found.line_starts_folded(text, starts)
    assert starts == set().union(*(_naive_starts(text.lower(), n) for n in needles))


def test_needles_with_capitals_do_not_fold() -> None:
    """Needles that are not all lower case are never searched for case-insensitively."""
    assert not Needles(("Key", "b")).folds("key")
    assert Needles(("key", "b")).folds("KEY")
    assert not Needles(("key", "b")).folds("kéy")


@pytest.mark.parametrize(("size", "miss_min"), [(2, 16), (3, 0), (5, 16), (7, 1), (64, 0)])
@given(
    st.one_of(_texts(), st.text("abkeyKEYAB $9\n\t", max_size=400)),
    st.sampled_from([n for n in _NEEDLE_SETS if all(x.isascii() and x == x.lower() for x in n)]),
)
@settings(max_examples=100, deadline=None)
def test_folded_needles_across_slices(
    size: int, miss_min: int, text: str, needles: tuple[str, ...]
) -> None:
    """Searched in slices of a few bytes (needles cut at slice ends, lines spanning
    slices), and after a few lines with a needle's core but not the needle by the whole
    needles in the lower-cased rest, the lines found are those of the text as a whole."""
    found = Needles(needles)
    if not found.folds(text):
        return
    starts: set[int] = set()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(scan, "SLICE", size)
        patch.setattr(scan, "MISS_MIN", miss_min)
        patch.setattr(scan, "MISS_SLACK", 0)
        found.line_starts_folded(text, starts)
    assert starts == set().union(*(_naive_starts(text.lower(), n) for n in needles))


def test_folded_needles_step_over_a_line_packed_with_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A long line full of needles is left for the next line (slices of it unsearched)."""
    monkeypatch.setattr(scan, "SLICE", 64)
    text = "KEY" * 2_000 + "\nab\n$9$ key $9$\n" + "key " * 500
    starts: set[int] = set()
    Needles(("key", "$9$")).line_starts_folded(text, starts)
    assert starts == {0, 6_004, 6_016}

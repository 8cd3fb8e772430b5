"""Cutting a read's text from the received parts equals joining them and slicing."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from netfleet.channel.channel import _cut


@given(
    parts=st.lists(st.text(alphabet="ab\r\n", max_size=6), max_size=8),
    start=st.integers(min_value=0, max_value=60),
    stop=st.integers(min_value=0, max_value=60),
)
def test_cut_equals_join_and_slice(parts: list[str], start: int, stop: int) -> None:
    assert _cut(parts, start, stop) == "".join(parts)[start:stop]

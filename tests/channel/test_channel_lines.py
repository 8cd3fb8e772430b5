"""A read's sink gets the output while it streams in: whole lines, a start of the result."""

from __future__ import annotations

import asyncio

from hypothesis import given, settings
from hypothesis import strategies as st

from netfleet.channel import Channel
from netfleet.channel import lines as lines_module
from netfleet.channel.lines import BATCH
from netfleet.platforms import compiled, get_platform

IOS = compiled(get_platform("cisco_ios"))
PROMPT = IOS.pinned("R1").any_prompt


class Wire:
    def write(self, data: str) -> None:
        pass


_line = st.text("abc R1#-", max_size=40)


async def _read(
    lines: list[str], cuts: list[int], pager_at: int | None, batch: int = BATCH
) -> tuple[str, list[str]]:
    saved, lines_module.BATCH = lines_module.BATCH, batch
    try:
        return await _read_batched(lines, cuts, pager_at)
    finally:
        lines_module.BATCH = saved


async def _read_batched(
    lines: list[str], cuts: list[int], pager_at: int | None
) -> tuple[str, list[str]]:
    ch = Channel(device="R1")
    ch.attach(Wire())
    ch.set_pager(IOS.pager, " ")
    runs: list[str] = []
    read = asyncio.ensure_future(ch.read_until((PROMPT,), 5.0, echo="show run", sink=runs.append))
    await asyncio.sleep(0)
    body = "".join(f"{line}\r\n" for line in lines)
    wire = "show run\r\n" + body + "R1#"
    ends = {c % len(wire) for c in cuts}
    if pager_at is not None:  # a pager prompt at a line start; erased after the answer
        at = wire.find("\n", pager_at % len(wire)) + 1 or len("show run\r\n")
        at = min(at, len(wire) - len("R1#"))
        wire = wire[:at] + " --More-- " + "\x08" * 10 + wire[at:]
        ends = {c if c <= at else c + 20 for c in ends} | {at + 10}  # it ends a chunk
    start = 0
    for end in [*sorted(ends), len(wire)]:
        if end > start:
            ch.feed(wire[start:end])
            start = end
    _, _, text = await read
    return text, runs


@given(
    st.lists(_line, min_size=0, max_size=60),
    st.lists(st.integers(0, 10**6), max_size=30),
    st.one_of(st.none(), st.integers(0, 10**6)),
)
@settings(max_examples=150, deadline=None)
def test_the_sink_gets_whole_lines_that_start_the_result(
    lines: list[str], cuts: list[int], pager_at: int | None
) -> None:
    text, runs = asyncio.run(_read(lines, cuts, pager_at, batch=64))  # many runs
    assert text == "".join(f"{line}\n" for line in lines)
    given_ = "".join(runs)
    assert text.startswith(given_)
    assert all(run.endswith("\n") for run in runs)
    assert all(len(run) >= 1 for run in runs)


def test_a_long_output_is_given_while_it_streams() -> None:
    lines = [f"line {i:05d} of the configuration" for i in range(2 * BATCH // 20)]
    text, runs = asyncio.run(_read(lines, list(range(0, 3 * BATCH, 1000)), None))
    assert len(runs) >= 2
    assert len("".join(runs)) >= len(text) - BATCH

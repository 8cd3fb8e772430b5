"""The channel's read-until-prompt on fed text (the transport feeds it the same way)."""

from __future__ import annotations

import asyncio
import re

import pytest

from netfleet.channel import Channel, ReadTimeout
from netfleet.platforms import compiled, get_platform

PROMPT = compiled(get_platform("cisco_ios")).pinned("R1").any_prompt


class Wire:
    def __init__(self) -> None:
        self.sent: list[str] = []

    def write(self, data: str) -> None:
        self.sent.append(data)


async def test_prompt_only_at_the_tail_and_only_this_hosts() -> None:
    ch = Channel(device="R1")
    ch.attach(Wire())
    read = asyncio.ensure_future(ch.read_until((PROMPT,), 5.0))
    await asyncio.sleep(0)
    ch.feed("show run\r\nbanner line\r\nR1#\r\n description R1#")  # prompt-like, not at tail
    ch.feed("\r\nOTHER#")  # another device's prompt at the tail
    ch.feed("\r\nR1#x")  # this prompt followed by more text
    await asyncio.sleep(0)
    assert not read.done()
    ch.feed("\r\nend\r\nR1#")
    _, m, text = await read
    assert m.group(0) == "R1#"
    assert text == "show run\nbanner line\nR1#\n description R1#\nOTHER#\nR1#x\nend\n"
    assert ch.pending() == ""


async def test_prompt_split_across_chunks_and_ansi() -> None:
    ch = Channel(device="R1")
    ch.attach(Wire())
    read = asyncio.ensure_future(ch.read_until((PROMPT,), 5.0))
    await asyncio.sleep(0)
    for piece in ("out\r\n\x1b[1", "mR", "1(config-if", ")#"):
        ch.feed(piece)
    _, m, text = await read
    assert m.group(0) == "R1(config-if)#"
    assert text == "out\n"


async def test_pager_is_answered_and_removed() -> None:
    wire = Wire()
    ch = Channel(device="R1")
    ch.attach(wire)
    ch.set_pager(compiled(get_platform("cisco_ios")).pager, " ")
    read = asyncio.ensure_future(ch.read_until((PROMPT,), 5.0))
    await asyncio.sleep(0)
    ch.feed("a\r\nb\r\n --More-- ")
    assert wire.sent == [" "]
    ch.feed("\x08" * 10 + " " * 10 + "\x08" * 10 + "c\r\nR1#")
    _, _, text = await read
    assert text == "a\nb\nc\n"


async def test_timeout_marks_dirty_and_keeps_what_arrived() -> None:
    ch = Channel(device="R1")
    ch.attach(Wire())
    ch.feed("partial")
    with pytest.raises(ReadTimeout, match=r"R1: no prompt within 0\.05s") as info:
        await ch.read_until((PROMPT,), 0.05)
    assert ch.dirty
    assert info.value.text == "partial"


async def test_expect_pattern_anywhere_in_the_window() -> None:
    ch = Channel(device="R1")
    ch.attach(Wire())
    ch.feed("Destination filename [startup-config]? ")
    index, _, text = await ch.read_until(
        (PROMPT, re.compile(r"Destination filename \[\S+\]\?")), 1.0, tail_only=False
    )
    assert index == 1
    assert text == ""
    assert ch.pending() == " "


async def test_lost_connection_fails_the_read() -> None:
    ch = Channel(device="R1")
    ch.attach(Wire())
    read = asyncio.ensure_future(ch.read_until((PROMPT,), 5.0))
    await asyncio.sleep(0)
    ch.lost(None)
    with pytest.raises(Exception, match="R1: the device closed the connection"):
        await read
    assert ch.closed

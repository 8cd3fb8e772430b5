"""Framed reads: echo first, prompt last and only once the output has gone quiet."""

from __future__ import annotations

import asyncio

import pytest

from netfleet.channel import Channel, FramingError, normalize
from netfleet.platforms import compiled, get_platform

PROMPT = compiled(get_platform("cisco_ios")).pinned("core-sw1").any_prompt


class Wire:
    def __init__(self) -> None:
        self.sent: list[str] = []

    def write(self, data: str) -> None:
        self.sent.append(data)


def channel() -> Channel:
    ch = Channel(device="core-sw1")
    ch.attach(Wire())
    return ch


async def started(ch: Channel) -> None:
    while not ch.busy:  # noqa: ASYNC110 - a condition, not a timing
        await asyncio.sleep(0)


async def test_a_prompt_line_followed_by_more_output_does_not_end_the_read() -> None:
    ch = channel()
    read = asyncio.ensure_future(ch.read_until((PROMPT,), 5.0, echo="show running-config"))
    await started(ch)
    ch.feed("show running-config\r\nbanner motd ^C\r\ncore-sw1#")  # a banner line
    ch.feed("\r\n^C\r\nend\r\ncore-sw1#")
    _, m, text = await read
    assert m.group(0) == "core-sw1#"
    assert text == "banner motd ^C\ncore-sw1#\n^C\nend\n"
    assert not ch.dirty


async def test_the_echo_is_required_before_the_prompt() -> None:
    ch = channel()
    read = asyncio.ensure_future(ch.read_until((PROMPT,), 5.0, echo="show clock"))
    await started(ch)
    ch.feed("core-sw1#")
    with pytest.raises(FramingError, match=r"core-sw1: 'show clock': the prompt came back"):
        await read
    assert ch.dirty


async def test_another_commands_echo_is_a_framing_error_naming_what_was_seen() -> None:
    ch = channel()
    read = asyncio.ensure_future(ch.read_until((PROMPT,), 5.0, echo="show clock"))
    await started(ch)
    ch.feed("show version\r\nCisco IOS Software\r\ncore-sw1#")
    with pytest.raises(FramingError, match=r"expected its echo, got 'show version'"):
        await read
    assert ch.dirty


async def test_wrapped_and_scrolled_echoes_are_accepted() -> None:
    for echo_line in (
        "show interfaces status | include conn \r\nected",
        "core-sw1#$ | include connected",
    ):
        ch = channel()
        read = asyncio.ensure_future(
            ch.read_until((PROMPT,), 5.0, echo="show interfaces status | include connected")
        )
        await started(ch)
        ch.feed(echo_line.replace("\r\n", "") + "\r\nGi0/1 connected\r\ncore-sw1#")
        _, _, text = await read
        assert text == "Gi0/1 connected\n"


async def test_a_cancelled_read_makes_the_channel_dirty() -> None:
    ch = channel()
    read = asyncio.ensure_future(ch.read_until((PROMPT,), 5.0, echo="show version"))
    await started(ch)
    read.cancel()
    with pytest.raises(asyncio.CancelledError):
        await read
    assert ch.dirty


async def test_text_after_the_prompt_while_idle_makes_the_channel_dirty() -> None:
    ch = channel()
    read = asyncio.ensure_future(ch.read_until((PROMPT,), 5.0, echo="show clock"))
    await started(ch)
    ch.feed("show clock\r\n12:00:00 UTC\r\ncore-sw1#")
    await read
    assert not ch.dirty
    ch.feed("\r\nrest of the output\r\n")
    assert ch.dirty
    assert "rest of the output" in ch.stray


def test_dec_private_escapes_are_removed() -> None:
    assert normalize("\x1b=\x1b7line\x1b8\x1b>\r\n") == "line\n"


def test_cr_erasing_pagers_leave_no_blanks_in_front_of_the_next_line() -> None:
    # NX-OS/ASA erase " --More-- " with CR, blanks, CR; the text that follows keeps its indent.
    assert normalize("\r          \r  ip address 10.0.0.1/24\r\n") == "  ip address 10.0.0.1/24\n"


async def test_a_cr_erase_split_across_chunks_is_joined() -> None:
    ch = channel()
    ch.set_pager(compiled(get_platform("cisco_nxos")).pager, " ")
    read = asyncio.ensure_future(ch.read_until((PROMPT,), 5.0, echo="show run"))
    await started(ch)
    ch.feed("show run\r\ninterface Ethernet1/1\r\n --More-- ")
    ch.feed("\r          ")
    ch.feed("\r  description uplink\r\ncore-sw1#")
    _, _, text = await read
    assert text == "interface Ethernet1/1\n  description uplink\n"

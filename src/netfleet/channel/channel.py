"""Event-driven read-until-pattern over a shell: no sleeps, no polling, no reader task.

``feed`` (called from the transport's ``data_received``) normalises the text,
answers a pager, appends to the buffer and, when a read is pending, searches the
buffer *tail* for the awaited patterns; a match resolves the read's future.
Everything before the match is the result; anything after it stays buffered.

Out-of-step guard: a read that times out marks the channel ``dirty``: the
device may still print that command's output later. ``resync`` sends a unique
marker and reads until its echo and a prompt after it, discarding everything
before, which makes the channel usable again.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Sequence
from typing import Protocol

from netfleet.channel.text import normalize, split_partial_escape
from netfleet.core.errors import CommandTimeout, ConnectionLost, NetfleetError

TAIL = 1024
"""Characters at the end of the buffer searched for a prompt."""
WINDOW = 4096
"""Characters searched for patterns that need not end the buffer (markers, ``expect``)."""


class Writer(Protocol):
    def write(self, data: str) -> None: ...


class ReadTimeout(CommandTimeout):
    """A read timed out; ``text`` is what arrived before the deadline."""

    def __init__(self, message: str, *, device: str, text: str) -> None:
        super().__init__(message, device=device)
        self.text = text


class Channel:
    """One interactive shell as a stream of text with pattern reads."""

    __slots__ = (
        "_answer",
        "_buffer",
        "_carry",
        "_handle",
        "_loop",
        "_on_data",
        "_pager",
        "_parts",
        "_patterns",
        "_size",
        "_tail_only",
        "_waiter",
        "_writer",
        "closed",
        "device",
        "dirty",
        "error",
    )

    def __init__(
        self,
        *,
        device: str,
        on_data: Callable[[str], None] | None = None,
    ) -> None:
        self.device = device
        self.dirty = False
        self.closed = False
        self.error: NetfleetError | None = None
        self._on_data = on_data
        self._writer: Writer | None = None
        self._loop = asyncio.get_running_loop()
        self._parts: list[str] = []
        self._size = 0
        self._buffer = ""
        """The last ``WINDOW`` characters of the buffer."""
        self._carry = ""
        self._pager: re.Pattern[str] | None = None
        self._answer = " "
        self._patterns: Sequence[re.Pattern[str]] = ()
        self._tail_only = True
        self._waiter: asyncio.Future[tuple[int, re.Match[str], str]] | None = None
        self._handle: asyncio.TimerHandle | None = None

    # --- wiring ------------------------------------------------------------------

    def attach(self, writer: Writer) -> None:
        self._writer = writer

    def set_pager(self, pattern: re.Pattern[str] | None, answer: str = " ") -> None:
        """Answer ``pattern`` at the buffer tail with ``answer`` whenever it appears."""
        self._pager = pattern
        self._answer = answer

    # --- transport callbacks -------------------------------------------------------

    def feed(self, data: str) -> None:
        if self._on_data is not None:
            self._on_data(data)
        if self._carry:
            data = self._carry + data
            self._carry = ""
        if "\x1b" in data:
            data, self._carry = split_partial_escape(data)
        data = normalize(data)
        if not data:
            return
        self._parts.append(data)
        self._size += len(data)
        buf = self._buffer + data
        if len(buf) > WINDOW:
            buf = buf[-WINDOW:]
        self._buffer = buf
        if self._pager is not None and self._page_break():
            return
        if self._waiter is not None:
            self._check()

    def lost(self, error: NetfleetError | None) -> None:
        self.closed = True
        self.error = error or ConnectionLost("the device closed the connection", device=self.device)
        self._finish_error(self.error)

    # --- reading -------------------------------------------------------------------

    def write(self, data: str) -> None:
        if self.closed:
            raise self.error or ConnectionLost("the session is closed", device=self.device)
        assert self._writer is not None, "channel not attached"
        self._writer.write(data)

    def pending(self) -> str:
        """Text received and not consumed by a read."""
        if len(self._parts) > 1:
            self._parts = ["".join(self._parts)]
        return self._parts[0] if self._parts else ""

    def drain(self) -> str:
        """Discard and return text received and not consumed by a read."""
        text = self.pending()
        self._parts = []
        self._size = 0
        self._buffer = ""
        return text

    async def read_until(
        self,
        patterns: Sequence[re.Pattern[str]],
        timeout: float,
        *,
        tail_only: bool = True,
    ) -> tuple[int, re.Match[str], str]:
        """Wait until one of ``patterns`` matches; return (index, match, text before it).

        With ``tail_only`` the patterns are searched in the last ``TAIL`` characters,
        starting at a line start (prompts anchored with ``\\Z``); otherwise in the
        last ``WINDOW`` characters. The matched text is consumed too.
        """
        if self.closed:
            raise self.error or ConnectionLost("the session is closed", device=self.device)
        if self._waiter is not None:
            raise RuntimeError("a read is already pending on this channel")
        self._patterns = patterns
        self._tail_only = tail_only
        fut: asyncio.Future[tuple[int, re.Match[str], str]] = self._loop.create_future()
        self._waiter = fut
        if self._size:
            self._check()
        if not fut.done():
            self._handle = self._loop.call_later(timeout, self._timed_out, timeout)
        try:
            return await fut
        finally:
            if self._waiter is fut:
                self._waiter = None
            if self._handle is not None:
                self._handle.cancel()
                self._handle = None

    # --- internals -------------------------------------------------------------------

    def _region(self) -> tuple[str, int]:
        """The searched text and its offset from the end of the buffer."""
        buf = self._buffer
        if self._tail_only and len(buf) > TAIL:
            cut = len(buf) - TAIL
            nl = buf.find("\n", cut - 1)
            buf = buf[nl + 1 :] if nl >= 0 else ""
        return buf, len(buf)

    def _check(self) -> None:
        region, back = self._region()
        for index, pattern in enumerate(self._patterns):
            m = pattern.search(region)
            if m is not None:
                self._consume(index, m, back)
                return

    def _consume(self, index: int, m: re.Match[str], back: int) -> None:
        full = "".join(self._parts)
        start = len(full) - back + m.start()
        end = len(full) - back + m.end()
        rest = full[end:]
        self._parts = [rest] if rest else []
        self._size = len(rest)
        self._buffer = rest[-WINDOW:]
        waiter = self._waiter
        self._waiter = None
        if waiter is not None and not waiter.done():
            waiter.set_result((index, m, full[:start]))

    def _page_break(self) -> bool:
        """Answer a pager prompt at the tail and cut it out of the buffer."""
        assert self._pager is not None
        tail = self._buffer[-256:]
        m = self._pager.search(tail)
        if m is None:
            return False
        start = m.start()
        while start > 0 and tail[start - 1] in " \t":
            start -= 1  # the blanks that lead the pager prompt (" --More-- ")
        cut = len(tail) - start
        full = "".join(self._parts)[:-cut]
        self._parts = [full] if full else []
        self._size = len(full)
        self._buffer = full[-WINDOW:]
        if self._writer is not None and not self.closed:
            self._writer.write(self._answer)
        return True

    def _timed_out(self, timeout: float) -> None:
        self._handle = None
        self.dirty = True
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            text = self.pending()
            waiter.set_exception(
                ReadTimeout(f"no prompt within {timeout:g}s", device=self.device, text=text[-200:])
            )

    def _finish_error(self, error: NetfleetError) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        waiter = self._waiter
        self._waiter = None
        if waiter is not None and not waiter.done():
            waiter.set_exception(error)

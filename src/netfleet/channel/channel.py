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

TAIL = 512
"""The longest last line searched for a prompt or a pager prompt."""
WINDOW = 4096
"""Characters searched for patterns that need not end the buffer (``expect``)."""


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
        "_carry",
        "_deadline",
        "_handle",
        "_line",
        "_loop",
        "_on_data",
        "_pager",
        "_parts",
        "_patterns",
        "_tail_only",
        "_timeout",
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
        self._line = ""
        """The last, unterminated line of the buffer (capped at ``TAIL + 1`` characters)."""
        self._carry = ""
        self._pager: re.Pattern[str] | None = None
        self._answer = " "
        self._patterns: Sequence[re.Pattern[str]] = ()
        self._tail_only = True
        self._waiter: asyncio.Future[tuple[int, re.Match[str], str]] | None = None
        self._handle: asyncio.TimerHandle | None = None
        self._deadline = 0.0
        self._timeout = 0.0

    # --- wiring ------------------------------------------------------------------

    def attach(self, writer: Writer) -> None:
        self._writer = writer

    def set_pager(self, pattern: re.Pattern[str] | None, answer: str = " ") -> None:
        """Answer ``pattern`` on the last line with ``answer`` whenever it appears."""
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
        nl = data.rfind("\n")
        line = self._line + data if nl < 0 else data[nl + 1 :]
        if len(line) > TAIL:
            line = line[-TAIL - 1 :]
        self._line = line
        if self._pager is not None and self._page_break():
            return
        if self._waiter is not None:
            self._check()

    def lost(self, error: NetfleetError | None) -> None:
        self.closed = True
        self.error = error or ConnectionLost("the device closed the connection", device=self.device)
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_exception(self.error)

    # --- reading -------------------------------------------------------------------

    def write(self, data: str) -> None:
        if self.closed:
            raise self.error or ConnectionLost("the session is closed", device=self.device)
        assert self._writer is not None, "channel not attached"
        self._writer.write(data)

    @property
    def busy(self) -> bool:
        """A read is in progress."""
        return self._waiter is not None

    def pending(self) -> str:
        """Text received and not consumed by a read."""
        parts = self._parts
        if len(parts) > 1:
            self._parts = parts = ["".join(parts)]
        return parts[0] if parts else ""

    def drain(self) -> str:
        """Discard and return text received and not consumed by a read."""
        if not self._parts:
            return ""
        text = self.pending()
        self._parts = []
        self._line = ""
        return text

    async def read_until(
        self,
        patterns: Sequence[re.Pattern[str]],
        timeout: float,
        *,
        tail_only: bool = True,
    ) -> tuple[int, re.Match[str], str]:
        """Wait until one of ``patterns`` matches; return (index, match, text before it).

        With ``tail_only`` the patterns are searched in the last, unterminated line
        (prompts, anchored with ``\\Z``); otherwise in the last ``WINDOW``
        characters. The matched text is consumed too. A timeout raises
        ``ReadTimeout`` and marks the channel ``dirty``.
        """
        if self.closed:
            raise self.error or ConnectionLost("the session is closed", device=self.device)
        if self._waiter is not None:
            raise RuntimeError("a read is already pending on this channel")
        self._patterns = patterns
        self._tail_only = tail_only
        fut: asyncio.Future[tuple[int, re.Match[str], str]] = self._loop.create_future()
        self._waiter = fut
        if self._parts:
            self._check()
            if fut.done():
                self._waiter = None
                return fut.result()
        self._arm(timeout)
        try:
            return await fut
        finally:
            if self._waiter is fut:
                self._waiter = None

    # --- internals -------------------------------------------------------------------

    def _arm(self, timeout: float) -> None:
        """Set the read deadline. One timer per channel, moved only when it must fire sooner:
        a timer that fires before the current deadline re-arms itself (no timer per read)."""
        self._timeout = timeout
        self._deadline = deadline = self._loop.time() + timeout
        handle = self._handle
        if handle is None or handle.when() > deadline:
            if handle is not None:
                handle.cancel()
            self._handle = self._loop.call_at(deadline, self._on_timer)

    def _on_timer(self) -> None:
        self._handle = None
        waiter = self._waiter
        if waiter is None or waiter.done():
            return
        if self._loop.time() < self._deadline:
            self._handle = self._loop.call_at(self._deadline, self._on_timer)
            return
        self.dirty = True
        self._waiter = None
        text = self.pending()
        waiter.set_exception(
            ReadTimeout(
                f"no prompt within {self._timeout:g}s", device=self.device, text=text[-200:]
            )
        )

    def _check(self) -> None:
        if self._tail_only:
            region = self._line
            if len(region) > TAIL:
                return
        else:
            region = self.pending()[-WINDOW:]
        for index, pattern in enumerate(self._patterns):
            m = pattern.search(region)
            if m is not None:
                self._consume(index, m, len(region))
                return

    def _consume(self, index: int, m: re.Match[str], back: int) -> None:
        full = self.pending()
        base = len(full) - back
        rest = full[base + m.end() :]
        self._parts = [rest] if rest else []
        self._line = rest[rest.rfind("\n") + 1 :][-TAIL - 1 :]
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result((index, m, full[: base + m.start()]))

    def _page_break(self) -> bool:
        """Answer a pager prompt on the last line and cut it out of the buffer."""
        assert self._pager is not None
        line = self._line
        if len(line) > TAIL:
            return False
        m = self._pager.search(line)
        if m is None:
            return False
        start = m.start()
        while start > 0 and line[start - 1] in " \t":
            start -= 1  # the blanks that lead the pager prompt (" --More-- ")
        full = self.pending()[: start - len(line)]
        self._parts = [full] if full else []
        self._line = line[:start]
        if self._writer is not None and not self.closed:
            self._writer.write(self._answer)
        return True

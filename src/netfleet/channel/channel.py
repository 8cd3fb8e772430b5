"""Event-driven, framed read-until-pattern over a shell: no sleeps, no polling, no reader task.

``feed`` (called from the transport's ``data_received``) normalises the text,
answers a pager, appends to the buffer and, when a read is pending, searches the
buffer *tail* for the awaited patterns. Framing rules for a read:

* with ``echo`` the device must first echo that command on a line of its own;
  a pattern seen before the echo, or other text in its place, fails the read
  with ``FramingError`` (naming what was seen);
* a match that ends the buffer (a prompt) is accepted only once the output has
  gone quiet: no new text for twice the longest gap between the earlier chunks of
  this output (one pass of the event loop when the output streamed without pauses of
  ``SETTLE_MIN``, at most ``SETTLE_MAX``). Text that
  arrives meanwhile withdraws the match, so a line that merely looks like the
  prompt (a banner line in ``show running-config``) never ends a read.

Everything before the match is the result; anything after it stays buffered.
A read that does not complete normally (timeout, cancellation, lost connection,
framing error) marks the channel ``dirty``; so does text that arrives while no
read is pending (the previous read ended too early). A dirty channel is never
reused.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Sequence

from netfleet.channel.errors import FramingError, ReadTimeout, Writer
from netfleet.channel.lines import Lines
from netfleet.channel.text import echo_end, normalize, pager_start, split_partial_escape
from netfleet.core.errors import ConnectionLost, NetfleetError

TAIL = 512
"""The longest last line searched for a prompt or a pager prompt."""
WINDOW = 4096
"""Characters searched for patterns that need not end the buffer (``expect``)."""
SETTLE_MAX = 0.25
"""The longest quiet period waited for before a prompt at the end of the buffer is accepted."""
SETTLE_MIN = 0.002
"""Chunk gaps shorter than this count as none (the output is streaming)."""
CUT_MIN = 8192
"""A read's text at least this long is cut from the received parts, not joined and sliced."""

Hit = tuple[int, re.Match[str], str]


class Channel:
    """One interactive shell as a stream of text with framed pattern reads."""

    __slots__ = (
        "_answer",
        "_body",
        "_candidate",
        "_carry",
        "_deadline",
        "_echo",
        "_handle",
        "_last_feed",
        "_line",
        "_lines",
        "_loop",
        "_max_gap",
        "_on_data",
        "_pager",
        "_parts",
        "_patterns",
        "_reads",
        "_settle",
        "_sink",
        "_tail_only",
        "_timeout",
        "_waiter",
        "_writer",
        "closed",
        "device",
        "dirty",
        "echo_line",
        "error",
        "stray",
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
        self.stray = ""
        """Text that arrived while no read was pending (it made the channel dirty)."""
        self.echo_line = ""
        """The line the last framed read took for its command's echo."""
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
        self._waiter: asyncio.Future[Hit] | None = None
        self._handle: asyncio.TimerHandle | None = None
        self._deadline = 0.0
        self._timeout = 0.0
        self._echo: str | None = None
        """The command whose echo the pending read still waits for."""
        self._body = 0
        """Where the output starts in the buffer (after the echo line)."""
        self._candidate: tuple[int, re.Match[str], int, asyncio.TimerHandle] | None = None
        self._last_feed = 0.0
        self._max_gap = -1.0
        """Longest gap between output chunks of the pending read (-1: no output chunk yet)."""
        self._settle = True
        self._reads = 0
        self._sink: Callable[[str], None] | None = None
        self._lines: Lines | None = None
        """The pending read's output not yet given to its sink."""

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
        if "\x1b" in data or data.endswith(("\r", " ", "\t")):
            data, self._carry = split_partial_escape(data)
        data = normalize(data)
        if not data:
            return
        self._parts.append(data)
        lines = self._lines
        if lines is not None:
            lines.add(data)
        nl = data.rfind("\n")
        line = self._line + data if nl < 0 else data[nl + 1 :]
        if len(line) > TAIL:
            line = line[-TAIL - 1 :]
        self._line = line
        if self._pager is not None and self._page_break():
            return
        if self._waiter is None:
            if self._reads and not self.closed and data.strip():
                # The previous read ended before the device finished: never reuse this channel.
                self.dirty = True
                self.stray = (self.stray + data)[-200:]
            return
        gap = -1.0
        if self._echo is None:
            now = self._loop.time()
            if self._max_gap >= 0.0:
                gap = now - self._last_feed
            else:
                self._max_gap = 0.0
            self._last_feed = now
        candidate = self._candidate
        if candidate is not None:
            candidate[3].cancel()  # more text: that was not the final prompt
            self._candidate = None
        # The quiet period a prompt in this chunk must wait is judged by the gaps *between
        # earlier chunks* (the device's pace), not by the gap before the prompt itself.
        self._check()
        if gap > self._max_gap:
            self._max_gap = gap
        if lines is not None and nl >= 0 and lines.due and self._waiter is not None:
            lines.deliver()
            if self._max_gap >= 0.0:  # the sink's work is no pause of the device's
                self._last_feed = self._loop.time()

    def lost(self, error: NetfleetError | None) -> None:
        self.closed = True
        self.error = error or ConnectionLost("the device closed the connection", device=self.device)
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        self._drop_candidate()
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            self.dirty = True
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
        echo: str | None = None,
        settle: bool = True,
        sink: Callable[[str], None] | None = None,
    ) -> Hit:
        """Wait until one of ``patterns`` matches; return (index, match, text before it).

        With ``tail_only`` the patterns are searched in the last, unterminated line
        (prompts, anchored with ``\\Z``); otherwise in the last ``WINDOW``
        characters. With ``echo`` the text must start with the device's echo of
        that command, which is not part of the returned text. With ``settle`` a
        match at the very end of the buffer waits for the output to go quiet. The
        matched text is consumed too. A timeout raises ``ReadTimeout``; any
        incomplete read marks the channel ``dirty``. ``sink`` (with ``tail_only``)
        is given the text to return while it streams in, in runs of complete lines
        (``lines.BATCH``): always a start of the text finally returned.
        """
        if self.closed:
            raise self.error or ConnectionLost("the session is closed", device=self.device)
        if self._waiter is not None:
            raise RuntimeError("a read is already pending on this channel")
        self._patterns = patterns
        self._tail_only = tail_only
        self._echo = echo
        self._body = 0
        self._settle = settle
        self._max_gap = -1.0
        self._sink = sink if tail_only else None
        if self._sink is not None and echo is None:
            self._lines = Lines(self._sink, self.pending())
        fut: asyncio.Future[Hit] = self._loop.create_future()
        self._waiter = fut
        self._reads += 1
        if self._parts:
            if echo is None:
                self._max_gap = 0.0
                self._last_feed = self._loop.time()
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
                self._drop_candidate()
            self._sink = self._lines = None
            if not fut.done() or fut.cancelled() or fut.exception() is not None:
                self.dirty = True

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
        if self._candidate is not None:
            self._settled()  # the output went quiet at the deadline: take the prompt
            return
        self._fail(ReadTimeout, f"no prompt within {self._timeout:g}s")

    def _fail(self, cls: type[ReadTimeout] | type[FramingError], message: str) -> None:
        self.dirty = True
        waiter, self._waiter = self._waiter, None
        self._drop_candidate()
        text = self.pending()
        if waiter is not None and not waiter.done():
            waiter.set_exception(cls(message, device=self.device, text=text[-200:]))

    def _find_echo(self) -> bool:
        """Look for the echo line of the pending read; False if the read failed or must wait."""
        echo = self._echo
        assert echo is not None
        text = self.pending()
        found = echo_end(text, echo, lambda: any(p.search(self._line) for p in self._patterns))
        if isinstance(found, str):
            self._fail(FramingError, found)
            return False
        if found < 0:
            return False
        self._echo = None
        self.echo_line = text[: found - 1]
        self._body = found
        if self._sink is not None:
            self._lines = Lines(self._sink, text[found:])
        self._max_gap = -1.0  # the command's own run time before its output is no gap
        return True

    def _check(self) -> None:
        if self._echo is not None and not self._find_echo():
            return
        if self._tail_only:
            region = self._line
            if len(region) > TAIL:
                return
        else:
            region = self._recent()
        for index, pattern in enumerate(self._patterns):
            m = pattern.search(region)
            if m is not None:
                if self._settle and m.end() == len(region):
                    self._hold(index, m, len(region))
                else:
                    self._consume(index, m, len(region))
                return

    def _recent(self) -> str:
        """The output of the pending read, at most its last ``WINDOW`` characters."""
        parts = self._parts
        size = 0
        i = len(parts)
        while i > 0 and size < WINDOW + self._body:
            i -= 1
            size += len(parts[i])
        text = "".join(parts[i:]) if i else self.pending()
        if i == 0 and self._body:
            text = text[self._body :]
        return text[-WINDOW:]

    def _hold(self, index: int, m: re.Match[str], back: int) -> None:
        """A match at the end of the buffer: accept it once no more text arrives."""
        gap = self._max_gap
        # Gaps below SETTLE_MIN are packet and scheduling jitter of a device sending as fast
        # as it can (and the event loop's timers are no finer); one loop pass is enough then.
        quiet = 0.0 if gap < SETTLE_MIN else min(SETTLE_MAX, 2.0 * gap)
        handle = self._loop.call_later(quiet, self._settled)
        self._candidate = (index, m, back, handle)

    def _settled(self) -> None:
        candidate, self._candidate = self._candidate, None
        if candidate is None:
            return
        index, m, back, handle = candidate
        handle.cancel()
        self._consume(index, m, back)

    def _drop_candidate(self) -> None:
        candidate, self._candidate = self._candidate, None
        if candidate is not None:
            candidate[3].cancel()

    def _consume(self, index: int, m: re.Match[str], back: int) -> None:
        parts = self._parts
        size = sum(map(len, parts))
        if size < CUT_MIN and len(parts) > 1:
            parts = [self.pending()]  # short: joining in C is cheaper than cutting parts
        base = size - back
        rest = _cut(parts, base + m.end(), size)
        self._parts = [rest] if rest else []
        self._line = rest[rest.rfind("\n") + 1 :][-TAIL - 1 :]
        body = min(self._body, base + m.start())
        self._body = 0
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result((index, m, _cut(parts, body, base + m.start())))

    def _page_break(self) -> bool:
        """Answer a pager prompt on the last line and cut it out of the buffer."""
        assert self._pager is not None
        line = self._line
        start = -1 if len(line) > TAIL else pager_start(self._pager, line)
        if start < 0:
            return False
        full = self.pending()[: start - len(line)]
        self._parts = [full] if full else []
        self._line = line[:start]
        if self._lines is not None:  # on the last line: not given to the sink yet
            self._lines.cut(len(line) - start)
        if self._writer is not None and not self.closed:
            self._writer.write(self._answer)
        return True


def _cut(parts: list[str], start: int, stop: int) -> str:
    """``"".join(parts)[start:stop]``, copying the text once at most (a whole part is
    taken as it is)."""
    pieces: list[str] = []
    at = 0
    for part in parts:
        end = at + len(part)
        if end > start and at < stop:
            pieces.append(part[max(start - at, 0) : stop - at])
        at = end
    return pieces[0] if len(pieces) == 1 else "".join(pieces)

"""``Lines``: a read's output handed to a sink in runs of complete lines as it streams in."""

from __future__ import annotations

from collections.abc import Callable

BATCH = 8192
"""The sink gets the complete lines collected once at least this much text is new."""


class Lines:
    """Output of one read (from a line start) not yet given to ``sink``."""

    __slots__ = ("_parts", "_sink", "size")

    def __init__(self, sink: Callable[[str], None], text: str) -> None:
        self._sink = sink
        self._parts = [text] if text else []
        self.size = len(text)

    def add(self, data: str) -> None:
        self._parts.append(data)
        self.size += len(data)

    @property
    def due(self) -> bool:
        """At least ``BATCH`` characters collected."""
        return self.size >= BATCH

    def cut(self, n: int) -> None:
        """Drop the last ``n`` characters (a pager prompt cut out of the last line)."""
        text = "".join(self._parts)[: self.size - n]
        self._parts = [text] if text else []
        self.size = len(text)

    def deliver(self) -> None:
        """Give the sink every complete line collected; keep the last, unterminated one
        (it may still change: a prompt, a pager prompt, a prompt-like line withdrawn)."""
        text = "".join(self._parts)
        cut = text.rfind("\n") + 1
        rest = text[cut:]
        self._parts = [rest] if rest else []
        self.size = len(rest)
        if cut:
            self._sink(text[:cut])

"""What a framed read raises, and what a channel writes to."""

from __future__ import annotations

from typing import Protocol

from netfleet.core.errors import CommandTimeout, DeviceError


class Writer(Protocol):
    def write(self, data: str) -> None: ...


class ReadTimeout(CommandTimeout):
    """A read timed out; ``text`` is what arrived before the deadline."""

    def __init__(self, message: str, *, device: str, text: str) -> None:
        super().__init__(message, device=device)
        self.text = text


class FramingError(DeviceError):
    """The device's text did not frame a command's output: no echo, or unexpected text."""

    transient = True

    def __init__(self, message: str, *, device: str, text: str) -> None:
        super().__init__(message, device=device)
        self.text = text

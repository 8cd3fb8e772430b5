"""``Reply``: what one framed send returns; ``read_error``: what a failed one raises."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from netfleet.channel import FramingError, ReadTimeout
from netfleet.core.errors import CommandTimeout, ConnectionLost, NetfleetError


@dataclass(frozen=True, slots=True)
class Reply:
    """What the device sent back for one line: ``output`` (echo and prompt removed),
    the ``match`` that ended the read, whether that was the prompt (``at_prompt``) or a
    question (then ``question`` is its text)."""

    output: str
    match: re.Match[str]
    at_prompt: bool
    question: str = ""
    raw: str | None = field(default=None, repr=False)
    """``output`` before masking, when the session's ``keep_raw`` is on and masking
    changed it (``masking.keep_raw``)."""


def read_error(exc: NetfleetError, label: str, timeout: float, device: str) -> NetfleetError:
    """The error a failed framed read raises, naming the device and the command (``label``)."""
    if isinstance(exc, ReadTimeout):
        seen = exc.text.strip()[-80:]
        return CommandTimeout(
            f"{label!r}: no prompt within {timeout:g}s"
            + (f"; last text: {seen!r}" if seen else ""),
            device=device,
        )
    if isinstance(exc, FramingError):
        return FramingError(exc.reason, device=device, text=exc.text)
    if isinstance(exc, ConnectionLost):
        return ConnectionLost(f"{label!r}: {exc.reason}", device=device)
    return exc

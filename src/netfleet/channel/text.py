"""Cleaning a device's raw output: line endings, ANSI escapes, backspace erasures, echo."""

from __future__ import annotations

import re

ANSI_RE = re.compile(
    r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[@-Z\\-_]|[()][A-Za-z0-9])"
)
"""CSI sequences, OSC strings, two-byte escapes and charset selections."""
_PARTIAL_ANSI_RE = re.compile(r"\x1b(?:\[[0-?]*[ -/]*|\][^\x07\x1b]*|[()])?\Z")
BACKSPACE_RE = re.compile(r"\x08+(?:[ \t]+\x08+)*")
"""Runs of backspaces (with the blanks between them) that a pager prints to erase itself."""


def split_partial_escape(data: str) -> tuple[str, str]:
    """``data`` without an escape sequence cut off at its end, and that cut-off part."""
    m = _PARTIAL_ANSI_RE.search(data, max(0, len(data) - 64))
    if m is None:
        return data, ""
    return data[: m.start()], data[m.start() :]


def normalize(data: str) -> str:
    """CR/LF to LF, drop remaining CRs, ANSI escapes and pager erasures."""
    if "\r" in data:
        data = data.replace("\r\n", "\n")
        if "\r" in data:
            data = data.replace("\r", "")
    if "\x1b" in data:
        data = ANSI_RE.sub("", data)
    if "\x08" in data:
        data = BACKSPACE_RE.sub("", data)
    return data


def strip_echo(text: str, command: str) -> str:
    """``text`` without the device's echo of ``command`` on its first line."""
    if not command:
        return text
    nl = text.find("\n")
    first = text if nl < 0 else text[:nl]
    want = command.strip()
    if want and first.rstrip().endswith(want):
        return "" if nl < 0 else text[nl + 1 :]
    return text

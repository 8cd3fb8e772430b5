"""Text the CLI did not write itself, made safe for a terminal.

Job names, commands, device names and device output may carry terminal escapes
(``ESC [ ...``), other control characters or bidi overrides. ``clean`` shows each
as a visible ``\\xNN`` / ``\\uNNNN`` (newlines and tabs stay); ``escape`` also
escapes rich markup, and is what every CLI table and line uses.
"""

from __future__ import annotations

from rich.markup import escape as _markup_escape

_BIDI = {0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)}
_TABLE: dict[int, str] = {
    **{c: f"\\x{c:02x}" for c in (*range(0x20), 0x7F, *range(0x80, 0xA0)) if c not in (9, 10)},
    **{c: f"\\u{c:04x}" for c in _BIDI},
}


def clean(text: str) -> str:
    """``text`` with control characters (but newline and tab) shown as escapes."""
    return text.translate(_TABLE)


def escape(text: str) -> str:
    """``clean`` plus rich markup escaping."""
    return _markup_escape(clean(text))

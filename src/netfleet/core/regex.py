"""Compiling RE2 patterns that users give: quietly, with errors as readable text."""

from __future__ import annotations

import re2

__all__ = ["compile_re2"]

_QUIET = re2.Options()
_QUIET.log_errors = False  # RE2 would print every rejected pattern on stderr


def compile_re2(pattern: str) -> re2._Regexp[str]:
    """``pattern`` compiled by RE2 (linear time); ``ValueError`` names what is wrong."""
    try:
        return re2.compile(pattern, options=_QUIET)
    except re2.error as exc:
        raise ValueError(_reason(exc)) from None


def _reason(exc: re2.error) -> str:
    reason = exc.args[0] if exc.args else "not accepted"
    if isinstance(reason, bytes):
        reason = reason.decode("utf-8", "replace")
    return str(reason)

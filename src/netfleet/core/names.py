"""Device names: the allowed characters, and file names built from them safely.

A device name is 1..255 characters from ``A-Z a-z 0-9 . _ - : @ +``, starting
with a letter or digit. So it has no ``/``, NUL, whitespace or control
characters, and cannot be ``.`` or ``..``: it is safe in URLs, logs and file names.

``file_stem(name)`` maps *any* text to a file name without ``/`` or NUL, one to one
(``%`` and every character outside ``A-Z a-z 0-9 . _ -`` are percent-escaped), so
``core/sw1`` and ``core_sw1`` never collide; ``child_path(folder, name, suffix)``
builds the path and checks it stays inside ``folder``.
"""

from __future__ import annotations

import re
from pathlib import Path

from netfleet.core.errors import ValidationError

MAX_NAME_LENGTH = 255
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:@+-]{0,254}$"
"""The allowed device names, as a regular expression (also used in the API schema)."""
_NAME = re.compile(NAME_PATTERN)
_FILE_SAFE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-")


def name_problem(name: str) -> str | None:
    """Why ``name`` is not a valid device name, or None."""
    if not name:
        return "a device name must not be empty"
    if len(name) > MAX_NAME_LENGTH:
        return f"a device name has at most {MAX_NAME_LENGTH} characters"
    if _NAME.match(name):
        return None
    bad = next((c for c in name if not (c.isascii() and (c.isalnum() or c in "._:@+-"))), None)
    if bad is not None:
        shown = repr(bad) if bad.isprintable() and bad != " " else f"U+{ord(bad):04X}"
        return (
            f"device name {name[:40]!r} contains {shown}; allowed: letters, digits and . _ - : @ +"
        )
    return f"device name {name[:40]!r} must start with a letter or digit"


def check_device_name(name: str) -> str:
    """``name`` if valid, else ``ValidationError`` naming the problem."""
    problem = name_problem(name)
    if problem is not None:
        raise ValidationError(problem)
    return name


def file_stem(name: str) -> str:
    """A one-to-one, file-system-safe rendering of ``name`` (percent-escaped)."""
    out = "".join(
        c if c in _FILE_SAFE else "".join(f"%{b:02X}" for b in c.encode("utf-8")) for c in name
    )
    if out in {"", ".", ".."}:
        out = out.replace(".", "%2E") or "%00"
    return out


def child_path(folder: Path, name: str, suffix: str) -> Path:
    """``folder / (file_stem(name) + suffix)``, refused if it would leave ``folder``."""
    path = folder / f"{file_stem(name)}{suffix}"
    if path.parent != folder or "/" in path.name:
        raise ValidationError(f"{name[:40]!r}: cannot make a file name from it")
    return path

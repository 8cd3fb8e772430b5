"""Descriptor exhaustion (``EMFILE``/``ENFILE``): recognise it in an exception, or probe.

A process that runs out of file descriptors (a connection flood, too many sessions at
once) fails every ``open()``, ``socket()`` and ``connect`` for a while. That is a
transient shortage of this process, not a fault of a device or of the database, and
it often shows only indirectly (a library's ``ValueError`` because it could not read
``/etc/passwd``): ``exhausted_now`` checks the process itself.
"""

from __future__ import annotations

import errno
import os

EXHAUSTED_ERRNOS = frozenset({errno.EMFILE, errno.ENFILE})

TOO_MANY_OPEN_FILES = "too many open files (the open files limit is reached)"
"""How netfleet's messages name it."""


def is_exhaustion(exc: BaseException) -> bool:
    """True if ``exc``, or an exception it was raised from, is ``EMFILE``/``ENFILE``."""
    seen = 0
    current: BaseException | None = exc
    while current is not None and seen < 8:
        if isinstance(current, OSError) and current.errno in EXHAUSTED_ERRNOS:
            return True
        current = current.__cause__ or current.__context__
        seen += 1
    return False


def exhausted_now() -> bool:
    """True if this process cannot open one more descriptor right now."""
    try:
        fd = os.open(os.devnull, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        return exc.errno in EXHAUSTED_ERRNOS
    os.close(fd)
    return False

"""Running this process out of file descriptors for a while (``EMFILE``), then back."""

from __future__ import annotations

import contextlib
import errno
import os
import resource
from collections.abc import Iterator

SPARE = 32
"""Free descriptors below the lowered limit before they are filled."""


def _open_now() -> int:
    return len(os.listdir("/proc/self/fd"))


@contextlib.contextmanager
def descriptors_exhausted() -> Iterator[int]:
    """Inside, every ``open()``, ``socket()`` and ``sqlite3.connect`` of this process fails
    with ``EMFILE``: the soft ``RLIMIT_NOFILE`` is lowered to just above the descriptors
    open now and the rest are filled. Yields how many were filled; on exit they are
    closed and the limit is restored. Descriptors open before keep working."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(soft, _open_now() + SPARE), hard))
    held: list[int] = []
    try:
        while True:
            try:
                held.append(os.open(os.devnull, os.O_RDONLY))
            except OSError as exc:
                if exc.errno != errno.EMFILE:
                    raise
                break
        yield len(held)
    finally:
        for fd in held:
            os.close(fd)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))

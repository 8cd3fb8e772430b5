"""Garbage-collector settings for long runs: fewer, cheaper collections."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

YOUNG_THRESHOLD = 20_000
"""Allocations between young collections (CPython's default is 700)."""


@contextlib.contextmanager
def fewer_collections() -> Iterator[None]:
    """Objects that exist now (start-up imports) are frozen, never scanned again, and
    young collections run less often, so fewer short-lived objects (a task's rows, a
    reply's parts) live long enough to be promoted and scanned again by full
    collections. Cycles are still collected. Undone afterwards.

    Import what the run uses before entering, so it is frozen too.
    """
    threshold = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(YOUNG_THRESHOLD, 20, 20)
    try:
        yield
    finally:
        gc.set_threshold(*threshold)
        gc.unfreeze()

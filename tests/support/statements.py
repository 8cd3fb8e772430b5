"""Counting the SQL statements a store call sends (every engine of the process)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa


@contextmanager
def statements_sent() -> Iterator[list[str]]:
    """The texts of the statements sent while inside, in order (an ``executemany``
    counts once)."""
    seen: list[str] = []

    def note(*args: Any) -> None:
        seen.append(str(args[2]))

    sa.event.listen(sa.engine.Engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        sa.event.remove(sa.engine.Engine, "before_cursor_execute", note)

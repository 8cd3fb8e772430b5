"""Configuration history as the dashboard reads it: ``store.configs`` (the backups
façade) seen through the few shapes the pages use, and diffs laid out for display.

The pages work without backups support in the store (``store.configs`` absent):
they say so instead of failing. ``side_by_side`` turns a unified diff into rows of
(old line, new line) with the changed ones marked.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from netfleet.core.errors import NetfleetError, NotFound

MAX_DIFF_LINES = 20_000
"""A longer diff is cut on the page (the unified text stays complete in the API)."""


class VersionLike(Protocol):
    @property
    def version(self) -> int: ...
    @property
    def created_at(self) -> float: ...
    @property
    def job_id(self) -> int | None: ...
    @property
    def sha256(self) -> str: ...
    @property
    def size(self) -> int: ...
    @property
    def added(self) -> int: ...
    @property
    def removed(self) -> int: ...
    @property
    def text(self) -> str | None: ...


class DiffLike(Protocol):
    @property
    def text(self) -> str: ...
    @property
    def added(self) -> int: ...
    @property
    def removed(self) -> int: ...


class ConfigStore(Protocol):
    """What the pages call on ``store.configs``."""

    async def list(
        self, device: str, *, limit: int = ..., before: int | None = ...
    ) -> Sequence[Any]: ...
    async def get(self, device: str, version: int | str = ...) -> Any: ...
    async def diff(
        self,
        device: str,
        from_version: int | str | None = ...,
        to_version: int | str | None = ...,
        *,
        hierarchical: bool = ...,
    ) -> tuple[Any, Any, Any]: ...
    async def search(
        self, pattern: str, *, regex: bool = ..., limit: int = ...
    ) -> tuple[Sequence[Any], bool]: ...
    async def status(self) -> Sequence[Any]: ...


def configs_of(store: object) -> ConfigStore | None:
    """``store.configs`` when the store keeps configuration backups, else None."""
    found: ConfigStore | None = getattr(store, "configs", None)
    return found


@dataclass(frozen=True, slots=True)
class HistoryView:
    """A device's newest versions for its page (``available``: the store keeps backups)."""

    available: bool
    versions: tuple[Any, ...] = ()
    error: str | None = None


async def config_history(store: object, device: str, *, limit: int) -> HistoryView:
    """The device's newest ``limit`` versions (without texts), newest first."""
    configs = configs_of(store)
    if configs is None:
        return HistoryView(available=False)
    try:
        return HistoryView(True, tuple(await configs.list(device, limit=limit)))
    except NotFound:
        return HistoryView(True)
    except NetfleetError as exc:
        return HistoryView(True, error=exc.message)


Side = Literal["same", "del", "add", "change", "hunk"]


@dataclass(frozen=True, slots=True)
class Row:
    """One row of a side-by-side diff: line numbers and texts (``None``: no line there)."""

    kind: Side
    old_no: int | None
    old: str | None
    new_no: int | None
    new: str | None


def _hunk_start(header: str) -> tuple[int, int]:
    """(old start, new start) of a ``@@ -a,b +c,d @@`` header (1 when unreadable)."""
    try:
        old_part, new_part = header.split("@@")[1].split()[:2]
        return int(old_part[1:].split(",")[0]), int(new_part[1:].split(",")[0])
    except (IndexError, ValueError):
        return 1, 1


def side_by_side(unified: str, max_lines: int = MAX_DIFF_LINES) -> tuple[list[Row], bool]:
    """Rows for a two-column view of ``unified``; removed and added runs are paired as
    changes. Returns (rows, cut) where ``cut`` says the diff was longer than shown."""
    rows: list[Row] = []
    lines = unified.splitlines()
    cut = len(lines) > max_lines
    old_no = new_no = 0
    dels: list[tuple[int, str]] = []
    adds: list[tuple[int, str]] = []

    def flush() -> None:
        for i in range(max(len(dels), len(adds))):
            d = dels[i] if i < len(dels) else None
            a = adds[i] if i < len(adds) else None
            kind: Side = "change" if d and a else ("del" if d else "add")
            rows.append(
                Row(
                    kind,
                    d[0] if d else None,
                    d[1] if d else None,
                    a[0] if a else None,
                    a[1] if a else None,
                )
            )
        dels.clear()
        adds.clear()

    for line in lines[:max_lines]:
        if line.startswith(("--- ", "+++ ")) and not rows and not dels and not adds:
            continue
        if line.startswith("@@"):
            flush()
            old_no, new_no = _hunk_start(line)
            rows.append(Row("hunk", None, line, None, None))
        elif line.startswith("-"):
            dels.append((old_no, line[1:]))
            old_no += 1
        elif line.startswith("+"):
            adds.append((new_no, line[1:]))
            new_no += 1
        else:
            flush()
            text = line[1:] if line.startswith(" ") else line
            rows.append(Row("same", old_no, text, new_no, text))
            old_no += 1
            new_no += 1
    flush()
    return rows, cut


def unified_rows(
    unified: str, max_lines: int = MAX_DIFF_LINES
) -> tuple[list[tuple[str, str]], bool]:
    """(class, line) for each line of a unified diff: ``add``, ``del``, ``hunk``, ``head``
    or ``same``; and whether it was cut."""
    lines = unified.splitlines()
    out: list[tuple[str, str]] = []
    for line in lines[:max_lines]:
        if line.startswith(("+++ ", "--- ")):
            kind = "head"
        elif line.startswith("@@"):
            kind = "hunk"
        elif line.startswith("+"):
            kind = "add"
        elif line.startswith("-"):
            kind = "del"
        else:
            kind = "same"
        out.append((kind, line))
    return out, len(lines) > max_lines

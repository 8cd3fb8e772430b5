"""Evaluate pre/post-change checks (``CheckSpec``) on the outputs before and after.

Pure functions: the outputs are gathered by ``netfleet.jobs.change_run``. A check whose
command failed on the device (before or after) fails, with that error as its reason.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from netfleet.core.models import CommandResult
from netfleet.jobs.changes import DEFAULT_ERROR_PATTERN, CheckSpec

_OPS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge,
    "<=": operator.le,
    "==": operator.eq,
    "!=": operator.ne,
    ">": operator.gt,
    "<": operator.lt,
}
_SHOWN = 5
"""Differing lines or rows quoted in a check's reason."""


@dataclass(frozen=True, slots=True)
class CheckResult:
    """One check's verdict with the outputs it compared."""

    check: CheckSpec
    ok: bool
    reason: str
    before: str | None = None
    after: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.check.label,
            "command": self.check.command,
            "rule": self.check.rule,
            "ok": self.ok,
            "reason": self.reason,
            "message": self.reason,
            "before": self.before,
            "after": self.after,
        }


def _lines(text: str) -> list[str]:
    return [" ".join(line.split()) for line in text.splitlines() if line.strip()]


def _rows(result: CommandResult) -> list[dict[str, Any]] | None:
    return result.parsed


def _key(row: dict[str, Any]) -> str:
    return repr(sorted(row.items()))


def _quote(items: Sequence[str]) -> str:
    shown = "; ".join(items[:_SHOWN])
    return shown + (f" (+{len(items) - _SHOWN} more)" if len(items) > _SHOWN else "")


def _items(check: CheckSpec, result: CommandResult) -> list[str] | None:
    """Lines, or rows (as text) when the check parses; None if parsing gave nothing."""
    if check.parse:
        rows = _rows(result)
        return None if rows is None else [_key(r) for r in rows]
    return _lines(result.output)


def _count(check: CheckSpec, result: CommandResult) -> int | None:
    rows = _rows(result)
    if rows is None:
        return None
    pattern = re.compile(check.match or r"\S")
    field = check.field or ""
    return sum(1 for row in rows if pattern.search(str(row.get(field, ""))))


def evaluate(check: CheckSpec, before: CommandResult | None, after: CommandResult) -> CheckResult:
    """The verdict of ``check``; ``before`` is None for rules that look only after."""
    shown_before = before.output if before is not None else None

    def verdict(ok: bool, reason: str) -> CheckResult:
        return CheckResult(check, ok, reason, shown_before, after.output)

    for label, result in (("before", before), ("after", after)):
        if result is not None and not result.ok:
            return verdict(False, f"{check.command!r} failed {label} the change: {result.error}")
    rule = check.rule
    if rule in ("contains", "not_contains"):
        found = re.search(check.pattern or "", after.output, re.M) is not None
        if rule == "contains":
            return verdict(found, "found" if found else f"no match for {check.pattern!r} after")
        return verdict(not found, f"{check.pattern!r} matched after" if found else "no match")
    if before is None:
        return verdict(False, "no output from before the change to compare with")
    if rule == "field":
        old, new = _count(check, before), _count(check, after)
        if old is None or new is None:
            return verdict(False, f"{check.command!r} could not be parsed (TextFSM)")
        target = float(old) if check.value == "before" else float(check.value)
        ok = _OPS[check.op](float(new), target)
        what = f"{check.field} matching {check.match or 'any value'}"
        return verdict(ok, f"{new} rows with {what} after, {check.op} {target:g} required")
    if rule == "no_new_errors":
        pattern = re.compile(check.pattern or DEFAULT_ERROR_PATTERN)
        had = {line for line in _lines(before.output) if pattern.search(line)}
        new_errors = [line for line in _lines(after.output) if pattern.search(line)]
        fresh = [line for line in new_errors if line not in had]
        return verdict(not fresh, f"new error lines: {_quote(fresh)}" if fresh else "none new")
    old_items, new_items = _items(check, before), _items(check, after)
    if old_items is None or new_items is None:
        return verdict(False, f"{check.command!r} could not be parsed (TextFSM)")
    if rule == "equal":
        if old_items == new_items:
            return verdict(True, "unchanged")
        gone = [i for i in old_items if i not in set(new_items)]
        added = [i for i in new_items if i not in set(old_items)]
        return verdict(False, f"changed: gone {_quote(gone) or '-'}; new {_quote(added) or '-'}")
    missing = [i for i in old_items if i not in set(new_items)]
    return verdict(not missing, f"missing after: {_quote(missing)}" if missing else "all kept")

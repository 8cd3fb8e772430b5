"""Safe-change parts of a config job: pre/post ``checks`` and automatic ``rollback``.

A config job may carry these next to its ``config`` lines or ``template``:

* ``checks``: commands run before and after the change, each with a rule comparing the
  two outputs (``equal``, ``subset``, ``no_new_errors``, ``field``) or testing the output
  after (``contains``, ``not_contains``). A failed check fails the task and, with
  ``rollback``, restores the configuration from before the change.
* ``rollback``: Junos and IOS-XR commit with ``commit confirmed`` and confirm only once
  the post-checks passed; IOS/IOS-XE, NX-OS and EOS save the running configuration on
  the device first and replace the running configuration with it on failure.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from netfleet.core.errors import ValidationError

MAX_CHECKS = 50
MAX_VARS_BYTES = 256 * 1024

CheckRule = Literal["equal", "subset", "no_new_errors", "field", "contains", "not_contains"]
CompareOp = Literal[">=", "<=", "==", "!=", ">", "<"]
RollbackMethod = Literal["commit_confirmed", "replace", "checkpoint"]

DEFAULT_ERROR_PATTERN = r"(?i)\b(error|fail(ed|ure)?|down|err-disabled|denied)\b"
"""What ``no_new_errors`` counts as an error line when no ``pattern`` is given."""

ROLLBACK_METHODS: dict[str, RollbackMethod] = {
    "juniper_junos": "commit_confirmed",
    "cisco_xr": "commit_confirmed",
    "cisco_ios": "replace",
    "cisco_xe": "replace",
    "arista_eos": "replace",
    "cisco_nxos": "checkpoint",
}
"""The rollback mechanism of each platform that has a safe one (ASA and Linux do not)."""


class CheckSpec(BaseModel):
    """One check command and the rule its outputs before and after must pass.

    - ``equal``: the output (or the parsed rows) after equals the one before;
    - ``subset``: every line (or row) before is still there after;
    - ``no_new_errors``: no line matching ``pattern`` (default: error, fail, down ...)
      appears after that was not there before;
    - ``field``: the number of parsed rows whose ``field`` matches ``match`` (any
      non-empty value by default) compared with ``op`` to ``value`` (a number, or
      ``"before"``: the same count before the change), e.g. BGP neighbours up ``>=``
      before;
    - ``contains`` / ``not_contains``: the output after matches / does not match the
      regex ``pattern``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    command: str = Field(min_length=1, max_length=4096)
    rule: CheckRule = "equal"
    pattern: str | None = Field(None, max_length=4096)
    parse: bool = Field(False, description="Compare TextFSM rows instead of text lines.")
    field: str | None = Field(None, max_length=255)
    match: str | None = Field(None, max_length=4096)
    op: CompareOp = ">="
    value: float | Literal["before"] = "before"
    name: str | None = Field(None, max_length=255)

    @field_validator("pattern", "match")
    @classmethod
    def _regex(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"invalid regular expression {value!r}: {exc}") from None
        return value

    @model_validator(mode="after")
    def _complete(self) -> CheckSpec:
        if "\n" in self.command or "\r" in self.command:
            raise ValueError("a check command is one line")
        if self.rule in ("contains", "not_contains") and not self.pattern:
            raise ValueError(f"rule {self.rule!r} needs a pattern")
        if self.rule == "field" and not self.field:
            raise ValueError("rule 'field' needs a field (a TextFSM column) and parse: true")
        if self.rule == "field" and not self.parse:
            raise ValueError("rule 'field' compares parsed rows: set parse: true")
        return self

    @property
    def label(self) -> str:
        return self.name or f"{self.rule}: {self.command}"


class RollbackSpec(BaseModel):
    """Restore the configuration from before the change when the push or a post-check
    fails. ``confirm_timeout_s``: Junos/IOS-XR ``commit confirmed`` deadline (Junos
    counts minutes: rounded up); the device reverts by itself if netfleet never confirms.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    confirm_timeout_s: int = Field(300, ge=60, le=3600)

    @property
    def junos_minutes(self) -> int:
        return max(1, -(-self.confirm_timeout_s // 60))


def rollback_problems(platforms: Iterable[tuple[str, str]]) -> list[str]:
    """For (device, platform) pairs: a line per device whose platform has no safe rollback."""
    out = []
    for device, platform in platforms:
        if platform not in ROLLBACK_METHODS:
            out.append(
                f"{device}: platform {platform} has no safe rollback mechanism "
                "(no commit confirmed, configure replace or checkpoint); "
                "submit without rollback or leave it out of the targets"
            )
    return out


def check_rollback(platforms: Iterable[tuple[str, str]]) -> None:
    """``ValidationError`` naming the targets whose platform cannot roll back."""
    problems = rollback_problems(platforms)
    if problems:
        shown = "; ".join(problems[:10])
        more = f" (+{len(problems) - 10} more)" if len(problems) > 10 else ""
        raise ValidationError(f"rollback requested, but {shown}{more}")


# --- the per-task record of a change ---------------------------------------------

CHANGE_RECORD = "#netfleet change"
"""The ``command`` of the last output of a config task: its change summary (``parsed``
holds one dict: diff source, rendered lines, checks, rollback) and its diff (``output``)."""


def describe_change(summary: dict[str, Any]) -> list[str]:
    """Plain-text lines for a change summary (checks, rollback) under the diff."""
    out = []
    checks = summary.get("checks") or []
    assert isinstance(checks, list)
    for check in checks:
        mark = "ok" if check.get("ok") else "FAILED"
        out.append(f"check {mark}: {check.get('name')}: {check.get('reason')}")
    failed = summary.get("failed_line")
    if failed is not None:
        applied = summary.get("applied_lines") or []
        out.append(f"stopped at {failed!r}: {len(applied)} line(s) before it applied")
    if summary.get("rolled_back"):
        out.append(f"rolled back: {summary.get('rollback_reason')}")
    elif summary.get("rollback_reason"):
        out.append(f"not rolled back: {summary.get('rollback_reason')}")
    return out


def change_summary(outputs: Iterable[object]) -> dict[str, Any] | None:
    """The change summary among a task's outputs (objects with ``command``/``parsed``)."""
    found: dict[str, Any] | None = None
    for out in outputs:
        if getattr(out, "command", None) == CHANGE_RECORD:
            parsed = getattr(out, "parsed", None)
            if parsed:
                found = dict(parsed[0])
                found["diff"] = getattr(out, "output", "") or None
    return found

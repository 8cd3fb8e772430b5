"""Results of device operations (``CommandResult`` lives in ``netfleet.core.models``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from netfleet.core.models import CommandResult

NOT_RUN = "not_run"
"""``error_kind`` of a command skipped by a failure strategy."""


@dataclass(slots=True)
class ConfigResult:
    """What pushing configuration lines did.

    ``results`` has one entry per line sent (plus commit/check/save steps);
    ``diff`` is the candidate diff on commit platforms (Junos, IOS-XR) and, for
    a dry run elsewhere, the lines that would have been sent. When a line fails,
    ``failed_line`` names it, ``applied_lines`` are the lines the device took (live
    on platforms without a candidate; none where the candidate was discarded) and
    ``partially_applied`` says that some, not all, were.
    """

    lines: list[str]
    results: list[CommandResult] = field(default_factory=list)
    ok: bool = True
    error: str | None = None
    error_kind: str | None = None
    diff: str | None = None
    dry_run: bool = False
    committed: bool = False
    saved: bool = False
    applied_lines: list[str] = field(default_factory=list)
    failed_line: str | None = None
    partially_applied: bool = False
    started_at: float = 0.0
    duration_ms: float = 0.0

    @property
    def output(self) -> str:
        """Everything the device printed for the steps, in order."""
        return "\n".join(r.output for r in self.results if r.output)

    def to_dict(self) -> dict[str, Any]:
        return {
            "lines": list(self.lines),
            "results": [r.to_dict() for r in self.results],
            "ok": self.ok,
            "error": self.error,
            "error_kind": self.error_kind,
            "diff": self.diff,
            "dry_run": self.dry_run,
            "committed": self.committed,
            "saved": self.saved,
            "applied_lines": list(self.applied_lines),
            "failed_line": self.failed_line,
            "partially_applied": self.partially_applied,
            "started_at": self.started_at,
            "duration_ms": round(self.duration_ms, 3),
        }


__all__ = ["NOT_RUN", "CommandResult", "ConfigResult"]

"""Notification rules, events and delivery results (the senders are ``notify_*``).

An event is a plain dict with a ``type`` (``EVENT_TYPES``) and, as they apply,
``status`` (job.finished: ``failed``/``partial``/``succeeded``), ``error_kind``
(task.failed), ``device``, ``groups``, ``schedule``, ``job_name``, ``job_id``,
``message`` and ``diff`` (config.changed). ``Rule.matches(event)`` decides whether a
rule fires: the event must be one of its ``events`` (``job.failed``,
``job.partial``, ``job.succeeded`` name the job.finished statuses) and pass every
filter that is set (device, group, schedule, job name globs; task error kinds).

Every sender returns a ``DeliveryResult``: ``delivered``, ``retryable`` (the durable
queue retries it with backoff, honouring ``retry_after``) or ``permanent`` (retrying
cannot help: bad URL, refused credentials, rejected payload), with a reason that
never carries a secret.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator

EVENT_TYPES = (
    "job.finished",
    "task.failed",
    "config.changed",
    "backup.stale",
    "rollout.halted",
    "approval.requested",
    "worker.down",
)
JOB_STATUSES = ("failed", "partial", "succeeded")
RULE_EVENTS = (
    *(f"job.{s}" for s in JOB_STATUSES),
    *(t for t in EVENT_TYPES if t != "job.finished"),
)

Outcome = Literal["delivered", "retryable", "permanent"]


@dataclass(frozen=True, slots=True)
class DeliveryResult:
    """What one delivery attempt did."""

    outcome: Outcome
    reason: str = ""
    status: int | None = None
    """HTTP status or SMTP reply code, when there was one."""
    retry_after: float | None = None
    """Seconds the receiver asked to wait (HTTP Retry-After), when it did."""

    @property
    def delivered(self) -> bool:
        return self.outcome == "delivered"

    @property
    def retryable(self) -> bool:
        return self.outcome == "retryable"


class Rule(BaseModel):
    """Which events a notification fires for. Empty filters match everything."""

    name: str
    events: list[str] = Field(min_length=1, description=f"Any of {', '.join(RULE_EVENTS)}.")
    task_error_kinds: list[str] = Field(default_factory=list, description="task.failed only.")
    devices: list[str] = Field(default_factory=list, description="Device name globs.")
    groups: list[str] = Field(default_factory=list, description="Group globs.")
    schedules: list[str] = Field(default_factory=list, description="Schedule name globs.")
    job_names: list[str] = Field(default_factory=list, description="Job name globs.")

    @field_validator("events")
    @classmethod
    def _known_events(cls, value: list[str]) -> list[str]:
        unknown = [e for e in value if e not in RULE_EVENTS]
        if unknown:
            raise ValueError(f"unknown events {unknown} (expected any of {', '.join(RULE_EVENTS)})")
        return value

    def matches(self, event: dict[str, Any]) -> bool:
        """True when ``event`` is one this rule notifies about."""
        kind = event.get("type")
        if kind == "job.finished":
            kind = f"job.{event.get('status')}"
        if kind not in self.events:
            return False
        if (
            self.task_error_kinds
            and kind == "task.failed"
            and event.get("error_kind") not in self.task_error_kinds
        ):
            return False
        checks = (
            (self.devices, [event.get("device"), *(event.get("devices") or [])]),
            (self.groups, list(event.get("groups") or [])),
            (self.schedules, [event.get("schedule")]),
            (self.job_names, [event.get("job_name")]),
        )
        for globs, values in checks:
            present = [str(v) for v in values if v]
            if globs and not any(fnmatchcase(v, g) for v in present for g in globs):
                return False
        return True


def event_title(event: dict[str, Any]) -> str:
    """A one-line summary, e.g. ``job backup-nightly failed (3 of 120 devices)``."""
    kind = str(event.get("type", "event"))
    who = event.get("job_name") or event.get("job_id") or ""
    device = event.get("device") or ""
    if kind == "job.finished":
        return f"netfleet: job {who} {event.get('status', '')}".replace("  ", " ")
    if kind == "task.failed":
        return f"netfleet: task failed on {device} ({event.get('error_kind', 'error')})"
    if kind == "config.changed":
        return f"netfleet: configuration of {device} changed"
    return f"netfleet: {kind.replace('.', ' ')} {device or who}".rstrip()


_SHOWN = ("job_name", "job_id", "status", "device", "groups", "schedule", "error_kind", "worker")


def event_lines(event: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, value) pairs worth showing, in a fixed order."""
    out = []
    for key in _SHOWN:
        value = event.get(key)
        if value:
            text = ", ".join(map(str, value)) if isinstance(value, list) else str(value)
            out.append((key.replace("_", " "), text))
    return out


def render_text(event: dict[str, Any]) -> str:
    lines = [event_title(event), ""]
    lines += [f"{label}: {value}" for label, value in event_lines(event)]
    if event.get("message"):
        lines += ["", str(event["message"])]
    return "\n".join(lines) + "\n"


def render_html(event: dict[str, Any]) -> str:
    rows = "".join(
        f"<tr><th align='left'>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>"
        for k, v in event_lines(event)
    )
    message = f"<p>{html.escape(str(event['message']))}</p>" if event.get("message") else ""
    diff = ""
    if event.get("diff"):
        diff = f"<pre>{html.escape(str(event['diff']))}</pre>"
    return (
        f"<html><body><h3>{html.escape(event_title(event))}</h3>"
        f"<table>{rows}</table>{message}{diff}</body></html>"
    )


def event_json(event: dict[str, Any]) -> bytes:
    """The canonical JSON body of an event (sorted keys, compact)."""
    return json.dumps(event, sort_keys=True, separators=(",", ":"), default=str).encode()

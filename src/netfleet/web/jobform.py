"""The new-job form: its fields as typed, and their translation into what the API
takes (a ``JobSpec``, or a schedule of one), with errors that name the field.

The form never builds a job the API could not: the body goes through the same
``JobSpec`` validation, command policy and ``store.jobs.submit`` as ``POST /api/v1/jobs``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any

from pydantic import ValidationError as PydanticValidationError

from netfleet.core.errors import ScheduleError
from netfleet.jobs.cron import preview as cron_preview
from netfleet.jobs.cron import resolve_wall_time, zone
from netfleet.jobs.model import JobSpec, Targets, describe_pydantic_error
from netfleet.jobs.schedule import ScheduleSpec, build_schedule

KINDS = ("commands", "config", "template")
WHEN = ("now", "at", "cron")
STRATEGIES = ("", "continue", "abort_first", "abort_after_n")
MAX_FIELD = 1024 * 1024
PREVIEW_FIRINGS = 5
TEMPLATE_FIELDS = ("template", "vars")
"""The ``JobSpec`` fields a templated config job uses (when the server has them)."""


class FormError(Exception):
    """A field of the form is invalid: ``field`` names it for the page."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(message)
        self.field = field_name
        self.message = message


def templates_supported() -> bool:
    return all(name in JobSpec.model_fields for name in TEMPLATE_FIELDS)


def _lines(text: str) -> list[str]:
    """Non-blank lines, right-trimmed (commands: one a line)."""
    return [line.rstrip() for line in text.replace("\r\n", "\n").split("\n") if line.strip()]


def _names(text: str) -> list[str]:
    """Names separated by commas, blanks or new lines, in order, without repeats."""
    parts = text.replace(",", " ").split()
    return list(dict.fromkeys(p for p in parts if p))


def _number(name: str, raw: str, *, integer: bool = False) -> float | int | None:
    raw = raw.strip()
    if not raw:
        return None
    try:
        value = int(raw) if integer else float(raw)
    except ValueError:
        kind = "a whole number" if integer else "a number"
        raise FormError(name, f"{name}: {raw[:40]!r} is not {kind}") from None
    if value <= 0:
        raise FormError(name, f"{name}: must be greater than 0")
    return value


def parse_variables(text: str) -> dict[str, Any]:
    """Template variables: a JSON object, or ``key=value`` lines (values as text)."""
    text = text.strip()
    if not text:
        return {}
    if text.startswith("{"):
        try:
            value = json.loads(text)
        except ValueError as exc:
            raise FormError("variables", f"variables: not valid JSON ({exc})") from None
        if not isinstance(value, dict):
            raise FormError("variables", "variables: give a JSON object")
        return value
    out: dict[str, Any] = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        key, sep, value = line.partition("=")
        if not sep or not key.strip():
            raise FormError("variables", f"variables line {number}: write key=value")
        out[key.strip()] = value.strip()
    return out


@dataclass(slots=True)
class JobDraft:
    """The form's fields, as text (so the page can show them back unchanged)."""

    name: str = ""
    devices: str = ""
    groups: list[str] = field(default_factory=list)
    filter: str = ""
    kind: str = "commands"
    commands: str = ""
    config: str = ""
    template: str = ""
    variables: str = ""
    parse: bool = False
    failure_strategy: str = ""
    failure_n: str = ""
    command_timeout_s: str = ""
    task_deadline_s: str = ""
    max_attempts: str = ""
    dry_run: bool = False
    save: bool = False
    when: str = "now"
    run_at: str = ""
    timezone: str = "UTC"
    cron: str = ""
    schedule_name: str = ""

    @classmethod
    def from_form(cls, form: Mapping[str, Any], getlist: Any = None) -> JobDraft:
        """Read the fields of a submitted form (unknown keys ignored, over-long values cut)."""
        draft = cls()
        for f in fields(cls):
            if f.name == "groups":
                raw = getlist("groups") if getlist is not None else form.get("groups", [])
                values = [raw] if isinstance(raw, str) else list(raw or [])
                draft.groups = list(
                    dict.fromkeys(g.strip() for g in values if isinstance(g, str) and g.strip())
                )
            elif f.type in ("bool", bool):
                setattr(draft, f.name, form.get(f.name) in ("1", "on", "true"))
            else:
                value = form.get(f.name)
                if isinstance(value, str):
                    setattr(draft, f.name, value[:MAX_FIELD])
        if draft.kind not in KINDS:
            draft.kind = "commands"
        if draft.when not in WHEN:
            draft.when = "now"
        if draft.failure_strategy not in STRATEGIES:
            draft.failure_strategy = ""
        draft.timezone = draft.timezone.strip() or "UTC"
        return draft

    # --- translation --------------------------------------------------------------

    def targets(self) -> Targets:
        try:
            return Targets(
                devices=_names(self.devices),
                groups=list(self.groups),
                filter=self.filter.strip() or None,
            )
        except PydanticValidationError as exc:
            raise FormError("targets", describe_pydantic_error(exc)) from None

    def options(self) -> dict[str, Any]:
        opts: dict[str, Any] = {}
        if self.parse and self.kind == "commands":
            opts["parse"] = "textfsm"
        if self.failure_strategy:
            opts["failure_strategy"] = self.failure_strategy
        n = _number("failure_n", self.failure_n, integer=True)
        if n is not None:
            opts["failure_n"] = n
        for key in ("command_timeout_s", "task_deadline_s"):
            value = _number(key, getattr(self, key))
            if value is not None:
                opts[key] = value
        attempts = _number("max_attempts", self.max_attempts, integer=True)
        if attempts is not None:
            opts["max_attempts"] = attempts
        if self.kind != "commands":
            opts["dry_run"] = self.dry_run
            opts["save"] = self.save
        return opts

    def body(self) -> dict[str, Any]:
        """The JSON body ``POST /api/v1/jobs`` would take for this form (without ``run_at``)."""
        body: dict[str, Any] = {
            "targets": self.targets().model_dump(exclude_defaults=True),
            "options": self.options(),
        }
        if self.name.strip():
            body["name"] = self.name.strip()
        if self.kind == "commands":
            body["commands"] = _lines(self.commands)
            if not body["commands"]:
                raise FormError("commands", "commands: give at least one command, one a line")
        elif self.kind == "config":
            body["config"] = [
                line.rstrip() for line in self.config.replace("\r\n", "\n").split("\n")
            ]
            while body["config"] and not body["config"][-1].strip():
                body["config"].pop()
            if not any(line.strip() for line in body["config"]):
                raise FormError("config", "config: give at least one config line")
        else:
            if not templates_supported():
                raise FormError(
                    "template", "template: this server does not take templated config jobs yet"
                )
            if not self.template.strip():
                raise FormError("template", "template: give the template text")
            body["template"] = self.template
            body["vars"] = parse_variables(self.variables)
        return body

    def start_time(self) -> datetime | None:
        """The one-time start (``when = at``) as an aware time in the chosen zone."""
        if self.when != "at":
            return None
        raw = self.run_at.strip()
        if not raw:
            raise FormError("run_at", "run_at: give the date and time to run at")
        try:
            local = datetime.fromisoformat(raw)
        except ValueError:
            raise FormError("run_at", f"run_at: {raw[:40]!r} is not a date and time") from None
        try:
            tz = zone(self.timezone)
        except ScheduleError as exc:
            raise FormError("timezone", exc.message) from None
        if local.tzinfo is not None:
            return local
        return resolve_wall_time(local, tz)

    def spec(self) -> JobSpec:
        """The job to submit now (``when`` now or at); ``FormError`` naming the field."""
        body = self.body()
        start = self.start_time()
        if start is not None:
            body["options"]["run_at"] = start
        try:
            return JobSpec.model_validate(body)
        except PydanticValidationError as exc:
            raise FormError(_field_of(exc), describe_pydantic_error(exc)) from None

    def schedule(self) -> ScheduleSpec:
        """The schedule to create (``when = cron``); ``FormError`` naming the field."""
        if not self.schedule_name.strip():
            raise FormError("schedule_name", "schedule_name: name the schedule")
        if not self.cron.strip():
            raise FormError("cron", "cron: give a cron expression such as '30 2 * * *'")
        body = self.body()
        try:
            template = JobSpec.model_validate(body)
        except PydanticValidationError as exc:
            raise FormError(_field_of(exc), describe_pydantic_error(exc)) from None
        try:
            return build_schedule(
                name=self.schedule_name.strip(),
                job_template=template,
                cron=self.cron.strip(),
                timezone=self.timezone,
            )
        except ScheduleError as exc:
            where = "timezone" if exc.message.startswith("timezone") else "cron"
            raise FormError(where, exc.message) from None


def _field_of(exc: PydanticValidationError) -> str:
    errors = exc.errors()
    if not errors:
        return "job"
    loc = [str(p) for p in errors[0]["loc"]]
    if loc[:1] == ["options"] and len(loc) > 1:
        return loc[1]
    if loc:
        return loc[0]
    message = str(errors[0]["msg"]).removeprefix("Value error, ")
    return message.split(":", 1)[0].split(".")[0].split("[")[0].strip() or "job"


def firings(expression: str, timezone: str, n: int = PREVIEW_FIRINGS) -> list[datetime]:
    """The next ``n`` fire times of ``expression`` in ``timezone`` (``FormError`` if bad)."""
    try:
        return cron_preview(expression.strip(), timezone.strip() or "UTC", n)
    except ScheduleError as exc:
        where = "timezone" if exc.message.startswith("timezone") else "cron"
        raise FormError(where, exc.message) from None

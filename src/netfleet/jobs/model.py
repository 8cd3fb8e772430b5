"""The job model: what a user asks for (``JobSpec``), task and job states.

A job targets devices (by name, group or filter) and carries either show
``commands`` or ``config`` lines, never both, or is a ``backup`` (the platform's
backup commands, stored as configuration versions; see ``netfleet.jobs.backup``).
It fans out into one task per device; the job's state is derived from its tasks' states by
``derive_job_state`` (a pure function).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic import ValidationError as PydanticValidationError

from netfleet.core.errors import ValidationError
from netfleet.core.models import FailureStrategyName
from netfleet.jobs.changes import MAX_CHECKS, MAX_VARS_BYTES, CheckSpec, RollbackSpec
from netfleet.jobs.rollout import RolloutOptions

# --- limits on input size -----------------------------------------------------

MAX_DEVICES_PER_JOB = 10_000
MAX_COMMANDS = 1_000
MAX_COMMAND_BYTES = 64 * 1024
MAX_CONFIG_BYTES = 1024 * 1024
MAX_NAME_LENGTH = 255

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
"""Control characters (C0, DEL, C1) and Unicode line separators: never in a command."""

# --- states -------------------------------------------------------------------

TaskState = Literal["queued", "retrying", "running", "succeeded", "failed", "cancelled"]
"""``retrying`` is a queued task waiting for its backoff (``run_at`` in the future)."""
JobState = Literal[
    "queued",
    "running",
    "succeeded",
    "partial",
    "failed",
    "cancelled",
    "awaiting_approval",
    "awaiting_window",
    "halted",
]
"""The last three are gates (``netfleet.jobs.gates``): no task is released meanwhile."""
RetryOn = Literal["transient", "any", "never"]
JobKind = Literal["commands", "config", "backup"]

TASK_STATES: tuple[TaskState, ...] = (
    "queued",
    "retrying",
    "running",
    "succeeded",
    "failed",
    "cancelled",
)
JOB_STATES: tuple[JobState, ...] = (
    "queued",
    "running",
    "succeeded",
    "partial",
    "failed",
    "cancelled",
    "awaiting_approval",
    "awaiting_window",
    "halted",
)
READY_TASK_STATES: frozenset[TaskState] = frozenset({"queued", "retrying"})
"""States a worker may claim (once ``run_at`` has passed)."""
TERMINAL_TASK_STATES: frozenset[TaskState] = frozenset({"succeeded", "failed", "cancelled"})
TERMINAL_JOB_STATES: frozenset[JobState] = frozenset(
    {"succeeded", "partial", "failed", "cancelled"}
)


def control_character_problem(index: int, command: str) -> str | None:
    """Why ``command`` (the ``index``-th) is refused for a control character, or None."""
    bad = _CONTROL.search(command)
    if bad is None:
        return None
    shown = command if len(command) <= 80 else command[:77] + "..."
    return (
        f"commands[{index}] {shown!r} holds the control character U+{ord(bad.group()):04X}; "
        "give one command per list item, without newlines or other control characters"
    )


class Targets(BaseModel):
    """Which devices a job runs on: named ``devices`` plus members of ``groups``;
    ``filter`` narrows those (or, alone, selects from the whole inventory)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    devices: list[str] = Field(default_factory=list, max_length=MAX_DEVICES_PER_JOB)
    groups: list[str] = Field(default_factory=list, max_length=1_000)
    filter: str | None = Field(
        None,
        max_length=4096,
        description="Inventory filter, all terms must match: 'platform=cisco_*', "
        "'group=core,edge', 'tag!=lab', 'name=edge-*' (globs; see netfleet.core.inventory).",
    )

    @field_validator("devices", "groups")
    @classmethod
    def _names(cls, value: list[str]) -> list[str]:
        for name in value:
            if not name or len(name) > MAX_NAME_LENGTH:
                raise ValueError(f"names must be 1..{MAX_NAME_LENGTH} characters")
        return list(dict.fromkeys(value))

    def is_empty(self) -> bool:
        return not self.devices and not self.groups and not self.filter


class JobOptions(BaseModel):
    """How a job's tasks run: failure strategy, retries, timeouts, ordering."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    failure_strategy: FailureStrategyName | None = Field(
        None, description="Default: the worker's [worker] failure_strategy (continue)."
    )
    failure_n: int | None = Field(
        None, ge=1, description="N for abort_after_n. Default: [worker] failure_strategy_n."
    )

    def with_defaults(self, strategy: FailureStrategyName, n: int) -> JobOptions:
        """These options with the failure strategy filled in from a worker's defaults."""
        if self.failure_strategy is not None and self.failure_n is not None:
            return self
        return self.model_copy(
            update={
                "failure_strategy": self.failure_strategy or strategy,
                "failure_n": self.failure_n or n,
            }
        )

    max_attempts: int | None = Field(
        None, ge=1, le=100, description="Default 3 for commands; 1 for config unless idempotent."
    )
    idempotent: bool = Field(False, description="Config may safely be re-applied (retries).")
    backoff_base_s: float = Field(2.0, ge=0, le=86_400)
    backoff_max_s: float = Field(300.0, ge=0, le=86_400)
    retry_on: RetryOn = "transient"
    command_timeout_s: float | None = Field(None, gt=0, le=86_400)
    task_deadline_s: float | None = Field(None, gt=0, le=7 * 86_400)
    priority: int = Field(0, ge=-1000, le=1000, description="Higher runs first.")
    exclusive: bool | None = Field(None, description="Default: True for config jobs.")
    idempotency_key: str | None = Field(None, min_length=1, max_length=200)
    run_at: datetime | None = Field(None, description="Not before this time (aware or UTC).")
    parse: Literal["textfsm"] | None = None
    save: bool = Field(False, description="Save the running config after config jobs.")
    dry_run: bool = Field(False, description="Config: show the diff/candidate, apply nothing.")
    push_diff: Literal["always", "backup", "off"] = Field(
        "always",
        description="Config pushes on IOS/XE, NX-OS, EOS, ASA: the diff stored per task. "
        "always: predicted from the latest backup, else from a `show running-config` read "
        "before the push (with rollback: the real before/after diff, two reads); backup: "
        "predicted from the latest backup only, no extra reads (no diff without a backup); "
        "off: no diff, no extra reads. Dry runs always show a diff.",
    )
    commit: bool = Field(True, description="Commit on candidate-config platforms.")
    allow_privileged_commands: bool = Field(
        False,
        description="Admins only: a command job may send privileged commands (configure, "
        "save, reload, erase, copy, commit ...; see each platform's privileged_commands).",
    )

    rollout: RolloutOptions | None = Field(
        None, description="Release tasks in batches, halting on failures (netfleet.jobs.rollout)."
    )
    emergency: bool = Field(
        False, description="Admins only: start outside change windows and blackouts (audited)."
    )
    window_policy: Literal["wait", "refuse"] | None = Field(
        None, description="Outside a change window: wait for it or refuse; default the window's."
    )

    @field_validator("run_at")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        """A time without a zone is UTC (never the host's local time)."""
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


class JobSpec(BaseModel):
    """A job as submitted: targets, exactly one of commands/config, options."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    targets: Targets
    commands: list[str] = Field(default_factory=list, max_length=MAX_COMMANDS)
    config: list[str] = Field(default_factory=list, max_length=MAX_COMMANDS * 100)
    options: JobOptions = Field(default_factory=lambda: JobOptions())
    name: str | None = Field(None, max_length=MAX_NAME_LENGTH)
    backup: bool = Field(
        False,
        description="Back up each device's configuration (no commands or config lines): "
        "a new version is stored when the normalised text changed.",
    )
    # --- safe changes (netfleet.jobs.changes): a template instead of lines, checks, rollback
    template: str | None = Field(
        None,
        max_length=MAX_CONFIG_BYTES,
        description="Jinja2 config template rendered per device with `device` and `vars`.",
    )
    template_name: str | None = Field(None, max_length=MAX_NAME_LENGTH, description="In errors.")
    vars: dict[str, Any] = Field(
        default_factory=dict, description="Template variables; override the inventory's."
    )
    checks: list[CheckSpec] = Field(default_factory=list, max_length=MAX_CHECKS)
    rollback: RollbackSpec | None = None

    @field_validator("commands")
    @classmethod
    def _commands(cls, value: list[str]) -> list[str]:
        for index, cmd in enumerate(value):
            if not cmd.strip():
                raise ValueError("commands must not be blank")
            problem = control_character_problem(index, cmd)
            if problem is not None:
                raise ValueError(problem)
            if len(cmd.encode()) > MAX_COMMAND_BYTES:
                raise ValueError(f"a command exceeds {MAX_COMMAND_BYTES} bytes")
        return value

    @field_validator("config")
    @classmethod
    def _config(cls, value: list[str]) -> list[str]:
        if sum(len(line.encode()) + 1 for line in value) > MAX_CONFIG_BYTES:
            raise ValueError(f"config exceeds {MAX_CONFIG_BYTES} bytes")
        return value

    @field_validator("vars")
    @classmethod
    def _vars(cls, value: dict[str, Any]) -> dict[str, Any]:
        if len(repr(value)) > MAX_VARS_BYTES:
            raise ValueError(f"vars exceed {MAX_VARS_BYTES} bytes")
        return value

    @model_validator(mode="after")
    def _one_kind(self) -> JobSpec:
        given = sum((bool(self.commands), bool(self.config), bool(self.template)))
        if self.backup:
            if given:
                raise ValueError("a backup job takes no commands, config lines or template")
        elif given != 1:
            raise ValueError("give exactly one of: commands or config lines, or a template")
        if self.vars and not self.template:
            raise ValueError("vars: only a template job takes variables")
        if (self.commands or self.backup) and (self.checks or self.rollback is not None):
            raise ValueError("checks and rollback belong to config jobs (config or template)")
        if self.targets.is_empty():
            raise ValueError("targets: name at least one device, group or a filter")
        attempts = self.options.max_attempts
        if self.kind == "config" and not self.options.idempotent and attempts and attempts > 1:
            raise ValueError(
                "options.max_attempts: config jobs run once unless options.idempotent is true"
            )
        return self

    @property
    def kind(self) -> JobKind:
        if self.backup:
            return "backup"
        return "commands" if self.commands else "config"

    @property
    def max_attempts(self) -> int:
        """Effective attempts: the option, or 3 for commands, 1 for non-idempotent config."""
        if self.options.max_attempts is not None:
            return self.options.max_attempts
        if self.kind == "config":
            return 3 if self.options.idempotent else 1
        return 3

    @property
    def exclusive(self) -> bool:
        """Effective exclusivity: the option, or True for config jobs."""
        if self.options.exclusive is not None:
            return self.options.exclusive
        return self.kind == "config"

    @property
    def repeatable(self) -> bool:
        """May a task run again after a lost lease? Not for non-idempotent config."""
        return self.kind != "config" or self.options.idempotent


def parse_job_spec(data: Mapping[str, Any] | JobSpec) -> JobSpec:
    """Validate ``data`` into a ``JobSpec``; errors become ``ValidationError`` naming the field."""
    if isinstance(data, JobSpec):
        return data
    try:
        return JobSpec.model_validate(data)
    except PydanticValidationError as exc:
        raise ValidationError(describe_pydantic_error(exc)) from None


def describe_pydantic_error(exc: PydanticValidationError) -> str:
    """One line naming each bad field (never echoing large inputs)."""
    parts = []
    for err in exc.errors()[:5]:
        loc = ".".join(str(p) for p in err["loc"]) or "job"
        parts.append(f"{loc}: {err['msg'].removeprefix('Value error, ')}")
    more = len(exc.errors()) - 5
    if more > 0:
        parts.append(f"(+{more} more)")
    return "invalid job: " + "; ".join(parts)


# --- job state derivation -----------------------------------------------------


@dataclass(frozen=True, slots=True)
class TaskCounts:
    """How many of a job's tasks are in each state."""

    queued: int = 0
    running: int = 0
    succeeded: int = 0
    failed: int = 0
    cancelled: int = 0
    retrying: int = 0

    @property
    def total(self) -> int:
        return (
            self.queued
            + self.retrying
            + self.running
            + self.succeeded
            + self.failed
            + self.cancelled
        )

    @classmethod
    def of(cls, states: Iterable[str]) -> TaskCounts:
        counts = dict.fromkeys(TASK_STATES, 0)
        for state in states:
            counts[state] += 1  # type: ignore[index]
        return cls(**counts)

    def as_dict(self) -> dict[str, int]:
        return {
            "queued": self.queued,
            "retrying": self.retrying,
            "running": self.running,
            "succeeded": self.succeeded,
            "failed": self.failed,
            "cancelled": self.cancelled,
            "total": self.total,
        }


def derive_job_state(counts: TaskCounts) -> JobState:
    """A job's state from its tasks' states.

    - nothing started yet (all queued) → ``queued``; some tasks not finished → ``running``
      (a task waiting to retry has started);
    - all finished: all succeeded → ``succeeded``; some succeeded → ``partial``;
      none succeeded: any failed → ``failed``, else ``cancelled``.
    """
    finished = counts.succeeded + counts.failed + counts.cancelled
    if counts.queued or counts.running or counts.retrying:
        if counts.running == 0 and counts.retrying == 0 and finished == 0:
            return "queued"
        return "running"
    if counts.total == 0 or counts.succeeded == counts.total:
        return "succeeded"
    if counts.succeeded:
        return "partial"
    return "failed" if counts.failed else "cancelled"

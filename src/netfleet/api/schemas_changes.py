"""Request and response bodies of the safe-changes routes (approvals, rollouts, windows)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import Path
from pydantic import BaseModel, ConfigDict, Field
from pydantic import ValidationError as PydanticValidationError

from netfleet.core.errors import ValidationError
from netfleet.jobs.model import describe_pydantic_error
from netfleet.jobs.windows import Verdict, WindowKind, WindowPolicy, WindowSpec
from netfleet.store.records_changes import GateRecord, WindowRecord

WindowName = Annotated[
    str, Path(min_length=1, max_length=255, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
]


def _iso(t: float | None) -> datetime | None:
    return None if t is None else datetime.fromtimestamp(t, UTC)


class GateOut(BaseModel):
    """What holds a job back and how far its rollout got."""

    job_id: int
    state: str = Field(
        description="awaiting_approval, awaiting_window, rolling, halted, released, "
        "rejected or done"
    )
    job_state: str | None = None
    submitted_by: str | None
    needs_approval: bool
    decision: str | None
    decided_by: str | None
    decided_at: float | None
    emergency: bool
    batches: list[int] = Field(description="Rollout batch sizes (empty without a rollout).")
    batches_released: int
    tasks_released: int
    failure_budget: int
    failures_forgiven: int
    pause_s: float
    reason: str
    window: str | None
    next_opening: datetime | None

    @classmethod
    def of(cls, gate: GateRecord, job_state: str | None = None) -> GateOut:
        return cls(
            job_id=gate.job_id,
            state=gate.state,
            job_state=job_state,
            submitted_by=gate.submitted_by,
            needs_approval=gate.needs_approval,
            decision=gate.decision,
            decided_by=gate.decided_by,
            decided_at=gate.decided_at,
            emergency=gate.emergency,
            batches=list(gate.plan),
            batches_released=gate.batch,
            tasks_released=gate.released,
            failure_budget=gate.budget,
            failures_forgiven=gate.failure_base,
            pause_s=gate.pause_s,
            reason=gate.reason,
            window=gate.window,
            next_opening=_iso(gate.next_opening),
        )


class RejectBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field("", max_length=1000)


class WindowIn(BaseModel):
    """A change window; its name is in the path (see ``netfleet.jobs.windows``)."""

    model_config = ConfigDict(extra="forbid")

    kind: WindowKind = "allow"
    timezone: str = "UTC"
    cron: str | None = Field(None, max_length=255)
    duration_minutes: int | None = None
    weekly: str | None = Field(None, max_length=64)
    start: datetime | None = None
    end: datetime | None = None
    policy: WindowPolicy = Field("wait", description="Outside: the job waits, or is refused.")
    enabled: bool = True
    description: str = Field("", max_length=1000)
    groups: list[str] = Field(
        default_factory=list, max_length=100, description="Only jobs touching these groups."
    )
    devices: list[str] = Field(
        default_factory=list, max_length=100, description="Only jobs touching these (globs)."
    )

    def to_spec(self, name: str) -> WindowSpec:
        """``ValidationError`` naming the bad field."""
        try:
            return WindowSpec.model_validate({"name": name, **self.model_dump()})
        except PydanticValidationError as exc:
            raise ValidationError(
                describe_pydantic_error(exc).replace("invalid job", f"invalid window {name!r}")
            ) from None


class WindowOut(BaseModel):
    name: str
    kind: str
    timezone: str
    cron: str | None
    duration_minutes: int | None
    weekly: str | None
    start: datetime | None
    end: datetime | None
    policy: str
    enabled: bool
    description: str
    groups: list[str]
    devices: list[str]
    open_now: bool
    next_opening: datetime | None
    created_at: float
    updated_at: float

    @classmethod
    def of(cls, record: WindowRecord, *, open_now: bool, next_opening: float | None) -> WindowOut:
        s = record.spec
        return cls(
            **s.model_dump(),
            open_now=open_now,
            next_opening=_iso(next_opening),
            created_at=record.created_at,
            updated_at=record.updated_at,
        )


class VerdictOut(BaseModel):
    """May a config change start now (or at ``at``)?"""

    at: datetime
    allowed: bool
    window: str | None
    next_opening: datetime | None
    policy: str
    reason: str

    @classmethod
    def of(cls, v: Verdict) -> VerdictOut:
        return cls(
            at=datetime.fromtimestamp(v.at, UTC),
            allowed=v.allowed,
            window=v.window,
            next_opening=_iso(v.next_opening if not v.allowed else v.at),
            policy=v.policy,
            reason=v.reason or "config changes may start",
        )

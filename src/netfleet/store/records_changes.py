"""Record types of safe changes: a job's gate and a change window (epoch seconds)."""

from __future__ import annotations

from dataclasses import dataclass

from netfleet.jobs.windows import WindowSpec


@dataclass(frozen=True, slots=True)
class GateRecord:
    """What holds a job back: approval, a change window, or its rollout's progress."""

    job_id: int
    state: str
    """``awaiting_approval``, ``awaiting_window``, ``rolling``, ``halted``, ``released``,
    ``rejected`` or ``done``."""
    submitted_by: str | None
    needs_approval: bool
    decision: str | None
    decided_by: str | None
    decided_at: float | None
    emergency: bool
    plan: tuple[int, ...]
    """Rollout batch sizes (empty without a rollout)."""
    batch: int
    """Batches released so far."""
    released: int
    budget: int
    failure_base: int
    pause_s: float
    reason: str
    window: str | None
    next_opening: float | None
    updated_at: float


@dataclass(frozen=True, slots=True)
class WindowRecord:
    """A stored change window."""

    id: int
    spec: WindowSpec
    created_at: float
    updated_at: float

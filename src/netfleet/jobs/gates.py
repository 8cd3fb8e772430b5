"""Gates between a job's submission and its tasks' release: approval, change windows,
staged rollout.

A gated job's tasks stay ``queued`` with ``run_at = HELD_RUN_AT`` (no claim picks
them) until the gate releases them by setting ``run_at``. The job shows the gate as
its state (``awaiting_approval``, ``awaiting_window``, ``halted``); such a state
sticks while tasks finish, until the gate lifts or the job finishes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from netfleet.jobs.model import TERMINAL_JOB_STATES, JobSpec, JobState

HELD_RUN_AT = 32_503_680_000.0
"""3000-01-01 UTC: a held task's ``run_at`` (far beyond any real start, still a date)."""

GATE_JOB_STATES: frozenset[str] = frozenset({"awaiting_approval", "awaiting_window", "halted"})

GateState = str
"""``awaiting_approval``, ``awaiting_window``, ``rolling``, ``halted``, ``released``,
``rejected``, ``done``."""


@dataclass(frozen=True, slots=True)
class ChangePolicy:
    """``[changes]`` as the store applies it at submit (see ``ChangeSettings``)."""

    require_approval: bool = False
    approval_groups: tuple[str, ...] = ()
    """Only config jobs touching a device in one of these groups need approval (empty: all)."""
    clock: Callable[[], float] | None = field(default=None, compare=False)
    """Epoch seconds for judging change windows; None: the store's clock. Tests inject one."""


def governed(spec: JobSpec) -> bool:
    """Do approvals and change windows apply? Config jobs that change something."""
    return spec.kind == "config" and not spec.options.dry_run


def needs_approval(policy: ChangePolicy, spec: JobSpec, groups: Sequence[str]) -> bool:
    """``groups``: the groups of the job's devices."""
    if not policy.require_approval or not governed(spec):
        return False
    return not policy.approval_groups or bool(set(policy.approval_groups) & set(groups))


def sticky_state(previous: str, derived: JobState) -> JobState:
    """The job state to store: a gate state stays until the job finishes."""
    if previous in GATE_JOB_STATES and derived not in TERMINAL_JOB_STATES:
        return previous  # type: ignore[return-value]
    return derived

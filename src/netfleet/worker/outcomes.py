"""Turning what happened to an attempt into the ``TaskOutcome`` reported to the store.

The store applies the job's retry policy (``retry_on``, attempts, backoff); the
worker says whether an error may go away on retry (``transient``) and whether a
retry is allowed at all (``retryable``: not once config may be half applied).
"""

from __future__ import annotations

from typing import Literal

from netfleet.core.errors import NetfleetError
from netfleet.store.records import ClaimedTask, TaskOutcome

StopReason = Literal["cancel", "lost", "shutdown", "deadline"]
"""Why a running attempt is stopped early:

- ``cancel``: a user cancelled the task (seen through a heartbeat) → ``cancelled``;
- ``lost``: the lease is not ours any more → drop the result, report nothing;
- ``shutdown``: the drain timeout passed → hand the task back to the queue;
- ``deadline``: the task's deadline passed → ``failed``.
"""


def may_repeat(claimed: ClaimedTask, *, started_sending: bool) -> bool:
    """May this attempt's work be done again? Not for non-idempotent config once sent."""
    if claimed.kind == "commands" or claimed.spec.options.idempotent:
        return True
    return not started_sending


def error_outcome(
    claimed: ClaimedTask, exc: NetfleetError, *, started_sending: bool = True
) -> TaskOutcome:
    """A failed attempt from a netfleet error (the device, the pool or the store)."""
    return TaskOutcome(
        status="failed",
        error=str(exc),
        error_kind=exc.kind,
        transient=exc.transient,
        retryable=may_repeat(claimed, started_sending=started_sending),
    )


def internal_error_outcome(exc: BaseException) -> TaskOutcome:
    """A bug in netfleet: fail the attempt, never retry it blindly."""
    return TaskOutcome(
        status="failed",
        error=f"internal error: {type(exc).__name__}",
        error_kind="internal_error",
        transient=False,
        retryable=False,
    )


def stop_outcome(
    claimed: ClaimedTask, reason: StopReason, *, started_sending: bool = True
) -> TaskOutcome | None:
    """The outcome of an attempt stopped early; ``None`` when nothing may be reported."""
    if reason == "lost":
        return None
    if reason == "cancel":
        return TaskOutcome(status="cancelled", error="cancelled by request", error_kind="cancelled")
    if reason == "deadline":
        return TaskOutcome(
            status="failed",
            error="the task ran past its deadline",
            error_kind="deadline_exceeded",
            transient=False,
            retryable=False,
        )
    # shutdown: hand the task back for another worker (config may not run twice: the
    # store fails one that began sending as ``config_state_unknown``, by its mark).
    return TaskOutcome(
        status="failed",
        error="interrupted: the worker shut down",
        error_kind="worker_shutdown",
        transient=True,
        retryable=may_repeat(claimed, started_sending=started_sending),
    )

"""The executor that runs attempts on the session pool (``jobs.execute.run_on_device``)."""

from __future__ import annotations

from netfleet.core.logging import get_logger
from netfleet.core.models import FailureStrategyName
from netfleet.device.device import Device
from netfleet.device.results import NOT_RUN
from netfleet.jobs.execute import DeviceRun, run_on_device
from netfleet.pool import SessionPool
from netfleet.store.records import ClaimedTask, TaskOutcome
from netfleet.worker.holds import HoldLedger
from netfleet.worker.outcomes import may_repeat
from netfleet.worker.runner import AttemptReport

log = get_logger(__name__)


class PoolExecutor:
    """Runs a claimed attempt's commands or config with a pooled session.

    Binds the pool to a ``HoldLedger``: the pool opens no more sessions to a device
    than the store counts for the workers using it (their running tasks and holds).
    Call ``close()`` after closing the pool to send the last hold releases.
    """

    def __init__(
        self,
        pool: SessionPool[Device],
        *,
        command_timeout_s: float | None = None,
        checkout_timeout_s: float | None = None,
        failure_strategy: FailureStrategyName = "continue",
        failure_n: int = 1,
    ) -> None:
        self.pool = pool
        self._failure_defaults = (failure_strategy, failure_n)
        self._command_timeout_s = command_timeout_s
        self._checkout_timeout_s = checkout_timeout_s
        self.ledger: HoldLedger | None = HoldLedger(pool.sessions)
        pool.bind_budget(self.ledger.budget, self.ledger.slot_freed)

    async def __call__(self, claimed: ClaimedTask, report: AttemptReport) -> TaskOutcome:
        spec = claimed.spec
        options = spec.options
        options = options.with_defaults(*self._failure_defaults)
        if options.command_timeout_s is None and self._command_timeout_s is not None:
            options = options.model_copy(update={"command_timeout_s": self._command_timeout_s})
        if spec.kind == "config":
            report.sending()  # a cancel from here on may leave config half applied
        run = await run_on_device(
            self.pool,
            claimed.device,
            commands=spec.commands,
            config=spec.config,
            options=options,
            checkout_timeout=self._checkout_timeout_s,
        )
        return outcome_of(claimed, run, report)

    def lease_lost(self, claimed: ClaimedTask) -> None:
        """Another worker holds the device's slot now: close our sessions to it."""
        self.pool.retire(claimed.device.name)

    def holds_expired(self, worker_id: str) -> None:
        """The store may have freed ``worker_id``'s holds: close the idle sessions they kept."""
        if self.ledger is None:
            return
        devices = self.ledger.holds_expired(worker_id)
        if devices:
            log.warning(
                "session holds may have expired (no heartbeat for a lease); closing idle sessions",
                devices=len(devices),
            )
        for device in devices:
            self.pool.close_idle(device, "holds_expired")

    def close_idle(self, device_ids: frozenset[int]) -> None:
        """Close idle sessions to these devices: an exclusive task waits for them."""
        if self.ledger is None:
            return
        for device in self.ledger.names(device_ids):
            self.pool.close_idle(device, "exclusive_waiting")

    async def close(self, timeout: float = 5.0) -> None:
        """Send pending hold releases (call after ``pool.close()``)."""
        if self.ledger is not None:
            await self.ledger.close(timeout)


def reached_device(run: DeviceRun) -> bool:
    """Did the attempt get a session (and so may have sent something)?"""
    if run.reused_session or run.login_ms > 0 or run.config is not None:
        return True
    return any(r.error_kind != NOT_RUN for r in run.results)


def outcome_of(claimed: ClaimedTask, run: DeviceRun, report: AttemptReport) -> TaskOutcome:
    """Report the run as events and turn it into the outcome stored for the attempt."""
    sent = reached_device(run)
    if sent:
        report.connected(reused=run.reused_session)
    for result in run.results:
        if result.error_kind != NOT_RUN:
            report.command(result)
    if run.ok:
        return TaskOutcome(status="succeeded", outputs=run.results)
    return TaskOutcome(
        status="failed",
        outputs=run.results,
        error=report.redact(run.error or "failed"),
        error_kind=run.error_kind,
        transient=run.transient,
        retryable=may_repeat(claimed, started_sending=sent),
    )

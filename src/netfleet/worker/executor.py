"""Executors: what runs an attempt on a device (``Executor``), what it reports while it
runs (``AttemptReport``), and the one that uses the session pool (``PoolExecutor``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol

from netfleet.core.errors import TemplateRenderError
from netfleet.core.logging import get_logger, log_redactor
from netfleet.core.models import CommandResult, FailureStrategyName
from netfleet.device.device import Device
from netfleet.device.results import NOT_RUN
from netfleet.jobs.change_run import ChangePlan
from netfleet.jobs.changes import CHANGE_RECORD
from netfleet.jobs.execute import DeviceRun, run_on_device
from netfleet.jobs.render import change_plan
from netfleet.pool import SessionPool
from netfleet.store.records import ClaimedTask, TaskOutcome
from netfleet.worker.batching import EventBuffer
from netfleet.worker.holds import HoldLedger
from netfleet.worker.outcomes import may_repeat

log = get_logger(__name__)

Baseline = Callable[[str], Awaitable[str | None]]
"""The running configuration of a device from its latest backup (None: none kept)."""


class AttemptReport:
    """What an executor tells the worker while an attempt runs (becomes task events)."""

    def __init__(
        self,
        events: EventBuffer,
        claimed: ClaimedTask,
        mark: Callable[[str], Awaitable[None]] | None = None,
    ) -> None:
        self._events = events
        self._task_id = claimed.task_id
        secrets = [s for c in claimed.device.credentials for s in c.secrets()]
        self._redactor = log_redactor(secrets)
        self._mark = mark
        self._first_line = claimed.spec.config[0] if claimed.spec.config else ""
        self.started_sending = False
        """True once a command or config line may have reached the device."""
        self.commands = 0

    async def before_config(self) -> None:
        """Record the durable progress mark (``mark``), then allow config to be sent."""
        if self._mark is not None and not self.started_sending:
            await self._mark(self.redact(self._first_line))
        self.started_sending = True

    def connected(self, *, reused: bool) -> None:
        kind = "reused" if reused else "new"
        self._events.add(self._task_id, "connected", f"{kind} session", reused=reused)

    def sending(self) -> None:
        self.started_sending = True

    def command(self, result: CommandResult) -> None:
        self.started_sending = True
        self.commands += 1
        text = self.redact(result.command)
        self._events.add(
            self._task_id,
            "command",
            text if result.ok else f"{text}: {self.redact(result.error or '')}",
            seq=self.commands,
            ok=result.ok,
            error_kind=result.error_kind,
            duration_ms=round(result.duration_ms, 3),
        )

    def backup(self, message: str, **data: object) -> None:
        """A backup's result (version stored or unchanged)."""
        self._events.add(self._task_id, "backup", message, **data)

    def redact(self, text: str) -> str:
        return self._redactor.redact(text)


class Executor(Protocol):
    """Runs an attempt's commands or config on the device and says how it went."""

    ledger: HoldLedger | None
    """Session holds of the executor's pool (``None``: sessions are not kept, every
    completion frees its device slot)."""

    async def __call__(self, claimed: ClaimedTask, report: AttemptReport) -> TaskOutcome: ...

    def lease_lost(self, claimed: ClaimedTask) -> None:
        """The task belongs to another worker now: drop sessions kept for its device."""

    def holds_expired(self, worker_id: str) -> None:
        """``worker_id``'s session holds may have expired in the store: close idle sessions."""

    def close_idle(self, device_ids: frozenset[int]) -> None:
        """Close idle sessions to these devices (an exclusive task waits for them)."""

    async def close_unkept(self, claimed: ClaimedTask, *, within: float | None = None) -> None:
        """The attempt's count was freed, not kept as a hold (``settle(may_keep=False)``):
        close the device's sessions the ledger no longer counts, and wait (at most
        ``within`` seconds) for the close."""

    def sweep_closed(self) -> None:
        """Let go of idle sessions the device closed, so their holds are released."""


BackupHook = Callable[["PoolExecutor", ClaimedTask, AttemptReport], Awaitable[TaskOutcome]]
"""Runs a backup task with the executor's ``run`` (see ``netfleet.worker.backup``)."""


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
        keep_raw: bool = False,
        baseline: Baseline | None = None,
    ) -> None:
        self.pool = pool
        self.keep_raw = keep_raw
        """Keep unmasked outputs (``masking.keep_raw``; the store encrypts them)."""
        self._baseline = baseline
        self._failure_defaults = (failure_strategy, failure_n)
        self._command_timeout_s = command_timeout_s
        self._checkout_timeout_s = checkout_timeout_s
        self.ledger: HoldLedger | None = HoldLedger(pool.sessions)
        pool.bind_budget(self.ledger.budget, self.ledger.slot_freed)
        self.ledger.bind_trim(lambda device, n: pool.close_idle(device, "uncounted", keep=n))
        self.backups: BackupHook | None = None
        """Runs backup tasks (``netfleet.worker.backup``); None: they fail clearly."""

    async def __call__(self, claimed: ClaimedTask, report: AttemptReport) -> TaskOutcome:
        if claimed.spec.kind == "backup":
            if self.backups is None:
                return TaskOutcome(
                    status="failed",
                    error="this worker has no backup store configured",
                    error_kind="internal",
                )
            return await self.backups(self, claimed, report)
        return await self.run(claimed, report)

    async def run(
        self,
        claimed: ClaimedTask,
        report: AttemptReport,
        *,
        commands: Sequence[str] | None = None,
        unmasked: bool = False,
    ) -> TaskOutcome:
        """Run the task's commands (or ``commands``) or config lines on a pooled session."""
        spec = claimed.spec
        options = spec.options
        options = options.with_defaults(*self._failure_defaults)
        if options.command_timeout_s is None and self._command_timeout_s is not None:
            options = options.model_copy(update={"command_timeout_s": self._command_timeout_s})
        try:
            plan = change_plan(spec, claimed.device)
        except TemplateRenderError as exc:
            run = DeviceRun(device=claimed.device.name)
            run.fail(exc)
            return outcome_of(claimed, run, report)
        if plan is None and spec.kind == "config":
            plan = ChangePlan(list(spec.config))  # a diff and a change record for every push
        wants_snapshot = plan is not None and plan.rollback is not None and plan.rollback.enabled
        from_backup = not wants_snapshot or options.push_diff == "backup"
        if plan is not None and from_backup and self._baseline is not None:
            plan.baseline = await self._baseline(claimed.device.name)
        run = await run_on_device(
            self.pool,
            claimed.device,
            commands=spec.commands if commands is None else commands,
            config=plan.lines if plan is not None else spec.config,
            options=options,
            checkout_timeout=self._checkout_timeout_s,
            unmasked=unmasked,
            keep_raw=self.keep_raw and not unmasked,
            plan=plan,
            before_config=report.before_config,  # a cancel after it may leave config half applied
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
        for device in devices:  # the sessions of other workers' holds and tasks stay
            self.pool.close_idle(device, "holds_expired", keep=self.ledger.budget(device))

    def close_idle(self, device_ids: frozenset[int]) -> None:
        """Close idle sessions to these devices: an exclusive task waits for them."""
        if self.ledger is None:
            return
        for device in self.ledger.names(device_ids):
            self.pool.close_idle(device, "exclusive_waiting")

    async def close_unkept(self, claimed: ClaimedTask, *, within: float | None = None) -> None:
        """Close the idle sessions of the attempt's device the ledger no longer counts (its
        own, now that it is not a hold) and wait until they have closed: before the
        completion reaches the store, which frees the slot for another worker (at most
        ``within`` seconds: the lease's time left)."""
        if self.ledger is None:
            return
        device = claimed.device.name
        budget = self.ledger.budget(device)
        self.pool.close_idle(device, "holds_untrusted", keep=budget)
        if not await self.pool.until_at_most(device, budget, timeout=within):
            log.warning("sessions not closed in time; reporting anyway", device=device)

    def sweep_closed(self) -> None:
        """Let go of idle sessions the device closed (a reboot, an idle timeout at the
        device): their holds are released once they are closed, within a heartbeat."""
        swept = self.pool.discard_closed()
        if swept:
            log.info("idle sessions closed by their devices", sessions=swept)

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
    reached = reached_device(run)
    # Config: only lines sent count (the durable mark precedes the first one).
    sent = report.started_sending if claimed.kind == "config" else reached
    if reached:
        report.connected(reused=run.reused_session)
    for result in run.results:
        if result.error_kind != NOT_RUN and result.command != CHANGE_RECORD:
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

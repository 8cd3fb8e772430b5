"""Run one task (a command list or config lines) on one device with a pooled session.

``run_on_device`` never raises for device or pool problems: everything ends up
in the returned ``DeviceRun`` (one ``CommandResult`` per command, run or not),
so no output is ever lost. Only cancellation propagates.

A session-level failure in the middle of a command (timeout, lost connection)
marks the session for discarding: the pool never hands out a session whose CLI
state is unknown.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from netfleet.core.errors import DeadlineExceeded, DeviceError, NetfleetError, PolicyViolation
from netfleet.core.logging import get_logger
from netfleet.core.models import CommandResult, DeviceSpec
from netfleet.device import Device
from netfleet.device.results import NOT_RUN, ConfigResult
from netfleet.jobs import change_run
from netfleet.jobs.change_run import ChangePlan
from netfleet.jobs.model import JobOptions
from netfleet.pool import SessionPool

log = get_logger(__name__)


@dataclass(slots=True)
class DeviceRun:
    """The outcome of one task on one device."""

    device: str
    ok: bool = True
    results: list[CommandResult] = field(default_factory=list)
    error: str | None = None
    error_kind: str | None = None
    transient: bool = False
    """Retrying later may succeed (connect problems, timeouts, pool waits)."""
    reused_session: bool = False
    login_ms: float = 0.0
    wait_ms: float = 0.0
    config: ConfigResult | None = None
    started_at: float = 0.0
    duration_ms: float = 0.0

    def fail(self, exc: NetfleetError) -> None:
        self.ok = False
        if self.error is None:
            self.error, self.error_kind, self.transient = exc.message, exc.kind, exc.transient

    def to_dict(self) -> dict[str, Any]:
        return {
            "device": self.device,
            "ok": self.ok,
            "error": self.error,
            "error_kind": self.error_kind,
            "transient": self.transient,
            "reused_session": self.reused_session,
            "login_ms": round(self.login_ms, 3),
            "wait_ms": round(self.wait_ms, 3),
            "started_at": self.started_at,
            "duration_ms": round(self.duration_ms, 3),
            "results": [r.to_dict() for r in self.results],
            "config": self.config.to_dict() if self.config is not None else None,
        }


def not_run(command: str, reason: str) -> CommandResult:
    """The result of a command that was not sent."""
    return CommandResult(command=command, ok=False, error=reason, error_kind=NOT_RUN)


def _should_stop(options: JobOptions, failures: int) -> bool:
    if options.failure_strategy == "abort_first":
        return failures >= 1
    if options.failure_strategy == "abort_after_n":
        return failures >= (options.failure_n or 1)
    return False


def _config_depth(dev: Device) -> int:
    """How far the session's level is at or above the configuration level (-1: below)."""
    names = [level.name for level in dev.platform.levels]
    if dev.level not in names or dev.platform.config_level not in names:
        return -1
    return names.index(dev.level) - names.index(dev.platform.config_level)


async def _policy_stop(
    dev: Device, commands: Sequence[str], index: int, result: CommandResult, run: DeviceRun
) -> None:
    """A command job's session entered configuration mode: fail the task, leave the mode
    without committing (the platform's exit answers decline to commit)."""
    command = commands[index]
    exc = PolicyViolation(
        f"{command!r} entered the {dev.level} level (prompt {dev.prompt!r}); a command job "
        "never changes configuration: left it without committing",
        device=dev.name,
    )
    result.ok, result.error, result.error_kind = False, exc.reason, exc.kind
    run.fail(exc)
    reason = f"not run: {command!r} broke the command policy"
    run.results.extend(not_run(c, reason) for c in commands[index + 1 :])
    try:
        await dev.reset()
    except NetfleetError as leave:
        log.warning("cannot leave configuration mode", device=dev.name, error=str(leave))


async def _run_commands(
    dev: Device, commands: Sequence[str], options: JobOptions, run: DeviceRun
) -> bool:
    """Run ``commands`` applying the failure strategy; False if the session broke (or,
    without ``allow_privileged_commands``, entered configuration mode)."""
    failures = 0
    guard = not options.allow_privileged_commands and _config_depth(dev) < 0
    for index, command in enumerate(commands):
        started_at, t0 = time.time(), time.perf_counter()
        try:
            result = await dev.send_command(
                command, timeout=options.command_timeout_s, parse=options.parse
            )
        except DeviceError as exc:
            run.results.append(
                CommandResult(
                    command=command,
                    ok=False,
                    error=exc.message,
                    error_kind=exc.kind,
                    started_at=started_at,
                    duration_ms=(time.perf_counter() - t0) * 1000.0,
                )
            )
            run.fail(exc)
            reason = f"not run: the session failed at {command!r}"
            run.results.extend(not_run(c, reason) for c in commands[index + 1 :])
            return False
        run.results.append(result)
        if guard and _config_depth(dev) >= 0:
            await _policy_stop(dev, commands, index, result, run)
            return False
        if not result.ok:
            failures += 1
            run.ok = False
            if run.error is None:
                run.error = f"{command!r} failed: {result.error}"
                run.error_kind = result.error_kind
            if _should_stop(options, failures):
                reason = f"not run: aborted after {failures} failed command(s)"
                if options.failure_strategy == "abort_after_n":
                    reason += f" (abort_after_n:{options.failure_n})"
                run.results.extend(not_run(c, reason) for c in commands[index + 1 :])
                return True
    return True


async def _run_config(
    dev: Device,
    lines: Sequence[str],
    options: JobOptions,
    run: DeviceRun,
    plan: ChangePlan | None = None,
) -> bool:
    """Push config lines as a safe change (``plan``: template, checks, rollback; none:
    the plain lines), with its diff and change record; False if the session broke."""
    if plan is None:
        plan = ChangePlan(list(lines))
    record: CommandResult | None = None
    try:
        if options.dry_run:
            cfg, outcome = await change_run.dry_run(dev, plan, options)
            record = outcome.record(plan)
        else:
            cfg, outcome = await change_run.apply(dev, plan, options)
            record = outcome.record(plan)
            if outcome.broken is not None:
                run.fail(outcome.broken)
                run.config = cfg
                run.results = [*cfg.results, record]
                return False
    except DeviceError as exc:
        run.fail(exc)
        return False
    run.config = cfg
    run.results = list(cfg.results) + ([record] if record is not None else [])
    if not cfg.ok:
        run.ok = False
        run.error = cfg.error or "configuration failed"
        run.error_kind = cfg.error_kind or "command_error"
    return True


def _died_before_output(run: DeviceRun, config: Sequence[str]) -> bool:
    """The session was lost at the very first command, before any output arrived."""
    first = run.results[0] if run.results else None
    return (
        not config
        and first is not None
        and first.error_kind == "connection_lost"
        and not first.output
    )


def _restart(run: DeviceRun) -> None:
    run.ok, run.error, run.error_kind, run.transient = True, None, None, False
    run.results = []


async def run_on_device(
    pool: SessionPool[Device],
    spec: DeviceSpec,
    *,
    commands: Sequence[str] = (),
    config: Sequence[str] = (),
    options: JobOptions | None = None,
    checkout_timeout: float | None = None,
    unmasked: bool = False,
    keep_raw: bool = False,
    plan: ChangePlan | None = None,
    before_config: Callable[[], Awaitable[None]] | None = None,
) -> DeviceRun:
    """Run ``commands`` (or push ``config``) on ``spec`` using a session from ``pool``.

    ``unmasked``: outputs keep the device's secrets (a backup that keeps raw texts
    encrypted); the caller masks what it shows or stores in clear. ``keep_raw``:
    outputs are masked, and command results also carry their unmasked output
    (``raw_output``, kept encrypted by the store; ``masking.keep_raw``).

    ``before_config`` is awaited with the session checked out, just before the first
    config line is sent (a worker records a durable progress mark there); a
    ``NetfleetError`` from it fails the run with nothing sent."""
    options = options or JobOptions()
    run = DeviceRun(device=spec.name, started_at=time.time())
    t0 = time.perf_counter()
    try:
        async with asyncio.timeout(options.task_deadline_s):
            for attempt in (1, 2):
                async with pool.lease(spec, timeout=checkout_timeout) as lease:
                    run.reused_session = lease.reused
                    run.login_ms += lease.login_s * 1000.0
                    run.wait_ms += lease.waited_s * 1000.0
                    lease.session.mask_secrets = not unmasked
                    lease.session.keep_raw = keep_raw
                    try:
                        if config:
                            if before_config is not None and not options.dry_run:
                                await before_config()
                            healthy = await _run_config(lease.session, config, options, run, plan)
                        else:
                            healthy = await _run_commands(lease.session, commands, options, run)
                    finally:
                        lease.session.mask_secrets = True
                        lease.session.keep_raw = False
                    if not healthy:
                        lease.discard = True
                if attempt == 1 and lease.reused and _died_before_output(run, config):
                    # The idle session died just as it was handed out (e.g. the device's
                    # exec-timeout): nothing ran, so run on a fresh session instead.
                    _restart(run)
                    continue
                break
    except TimeoutError:
        run.fail(
            DeadlineExceeded(f"{spec.name}: task deadline of {options.task_deadline_s:g} s passed")
        )
    except NetfleetError as exc:  # the pool could not provide a session
        run.fail(exc)
    if not run.results and not config:
        reason = f"not run: {run.error}"
        run.results = [not_run(c, reason) for c in commands]
    elif len(run.results) < len(commands) and not config:
        done = len(run.results)
        reason = f"not run: {run.error}"
        run.results.extend(not_run(c, reason) for c in commands[done:])
    run.duration_ms = (time.perf_counter() - t0) * 1000.0
    return run

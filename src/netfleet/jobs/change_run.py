"""One config task as a safe change: dry-run diff, pre/post checks, automatic rollback.

Steps on one device session:

1. dry run: candidate platforms (Junos, IOS-XR) show the device's own candidate diff;
   IOS/XE, NX-OS, EOS and ASA a diff predicted from the running configuration (read
   with ``show running-config``), marked as a prediction. Nothing is applied.
2. pre-checks: each check command runs (a failing command stops the task: nothing sent);
3. with rollback: IOS-like platforms save the running configuration on the device;
4. push: candidate platforms commit with ``commit confirmed`` when rolling back is asked.
   IOS-like platforms show a diff too: with a snapshot, the running configuration's
   real before/after diff (read before the snapshot and after the push); without, the
   predicted diff computed before the push (from the latest backup or the device);
5. post-checks: the same commands again, each judged by its rule;
6. all passed: confirm the commit / delete the snapshot (and save, if asked); otherwise
   restore (``rollback 1`` + ``commit``, ``configure replace``, checkpoint rollback) or,
   on IOS-XR, leave the commit unconfirmed so the device reverts at the deadline.

Every command's result is kept in the task's outputs, and a last record
(``CHANGE_RECORD``) holds the summary: diff, checks, whether it was rolled back and why.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from netfleet.configs.diff import config_diff
from netfleet.configs.normalise import normalise
from netfleet.configs.predict import PLATFORMS as PREDICTED
from netfleet.configs.predict import predict
from netfleet.core.errors import DeviceError, ValidationError
from netfleet.core.models import CommandResult
from netfleet.device import Device
from netfleet.device import rollback as rb
from netfleet.device.results import ConfigResult
from netfleet.jobs.changes import CHANGE_RECORD, CheckSpec, RollbackSpec
from netfleet.jobs.checks import CheckResult, evaluate
from netfleet.jobs.model import JobOptions

RUNNING_CONFIG = "show running-config"


@dataclass(slots=True)
class ChangePlan:
    """What one task changes: its (rendered) lines, checks and rollback."""

    lines: list[str]
    checks: Sequence[CheckSpec] = ()
    rollback: RollbackSpec | None = None
    rendered: bool = False
    """The lines came from a template (they are shown in the summary)."""
    baseline: str | None = None
    """The device's running configuration from a backup (None: read it from the device)."""


@dataclass(slots=True)
class ChangeOutcome:
    """What happened, for the summary record."""

    diff: str | None = None
    diff_source: str = ""
    baseline: str | None = None
    """Predicted diffs: ``backup`` (the latest backup) or ``device`` (read just now)."""
    checks: list[CheckResult] = field(default_factory=list)
    rolled_back: bool = False
    rollback_reason: str | None = None
    steps: list[CommandResult] = field(default_factory=list)
    broken: DeviceError | None = None
    """The session failed during the change (it is discarded)."""
    sent: bool = False
    """Config lines were sent (a failure after this may have left some applied)."""
    predicted_from: str | None = None
    """The running configuration a predicted diff was computed from."""
    applied_lines: list[str] = field(default_factory=list)
    """The lines the device took before a line failed (``ConfigResult.applied_lines``)."""
    failed_line: str | None = None
    partially_applied: bool = False

    def record(self, plan: ChangePlan) -> CommandResult:
        summary: dict[str, Any] = {
            "diff_source": self.diff_source,
            "predicted": self.diff_source == "predicted",
            "baseline": self.baseline,
            "lines": plan.lines if plan.rendered else None,
            "checks": [c.to_dict() for c in self.checks],
            "checks_ok": all(c.ok for c in self.checks),
            "rollback_requested": plan.rollback is not None and plan.rollback.enabled,
            "rolled_back": self.rolled_back,
            "rollback_reason": self.rollback_reason,
            "applied_lines": self.applied_lines,
            "failed_line": self.failed_line,
            "partially_applied": self.partially_applied,
        }
        return CommandResult(command=CHANGE_RECORD, output=self.diff or "", parsed=[summary])


async def _run(dev: Device, command: str, *, parse: bool, timeout: float | None) -> CommandResult:
    return await dev.send_command(command, timeout=timeout, parse="textfsm" if parse else None)


async def _running(
    dev: Device, options: JobOptions, out: ChangeOutcome, *, keep: bool = True
) -> str:
    """The running configuration, read now (``ValidationError`` if the device refuses).
    ``keep``: also as a step of the task's outputs (a push keeps only the diff)."""
    shown = await dev.send_command(RUNNING_CONFIG, timeout=options.command_timeout_s)
    if keep or not shown.ok:
        out.steps.append(shown)
    if not shown.ok:
        raise ValidationError(f"cannot read the running configuration: {shown.error}")
    return shown.output


async def _predicted(
    dev: Device, plan: ChangePlan, options: JobOptions, out: ChangeOutcome, *, keep: bool = True
) -> str:
    running = plan.baseline
    out.baseline = "backup" if running is not None else "device"
    if running is None:
        running = await _running(dev, options, out, keep=keep)
    out.predicted_from = running
    return _predict(dev, running, plan.lines)


def _predict(dev: Device, running: str, lines: Sequence[str]) -> str:
    return predict(running, lines, predicted_family(dev) or dev.platform.name).text


async def _diff_of_failed_push(
    dev: Device, applied: list[str], options: JobOptions, out: ChangeOutcome
) -> None:
    """A push that stopped at a rejected line: the diff of what the device took, not the
    prediction of every line (which would show the rejected ones as added). Read from
    the device when the prediction was (a line was applied), else predicted again from
    the applied lines alone."""
    assert out.predicted_from is not None
    if out.baseline == "device" and applied:
        await _diff_after_push(dev, out.predicted_from, options, out)
        return
    out.diff = _predict(dev, out.predicted_from, applied)


async def _diff_before_push(
    dev: Device, plan: ChangePlan, options: JobOptions, out: ChangeOutcome, snapshot: bool
) -> str | None:
    """IOS-like platforms: the running configuration before the push (to diff against
    the one after it) when a snapshot is taken, else set the predicted diff. A device
    that will not show its configuration costs the diff, not the change.

    ``options.push_diff``: ``backup`` predicts from the latest backup only (also with a
    snapshot) and ``off`` skips the diff, so neither reads the device."""
    family = predicted_family(dev)
    if family is None or options.push_diff == "off":
        return None
    if options.push_diff == "backup":
        if plan.baseline is None:
            out.diff = "(no diff: this device has no backup, and push_diff is 'backup')"
            out.diff_source = "unavailable"
            return None
        snapshot = False
    try:
        if snapshot:
            return await _running(dev, options, out, keep=False)
        predicted = await _predicted(dev, plan, options, out, keep=False)
        out.diff, out.diff_source = predicted, "predicted"
    except ValidationError as exc:
        out.diff, out.diff_source = f"(no diff: {exc.message})", "unavailable"
    return None


async def _diff_after_push(
    dev: Device, before: str, options: JobOptions, out: ChangeOutcome
) -> None:
    """The real diff of the running configuration across the push."""
    family = predicted_family(dev) or dev.platform.name
    try:
        after = await _running(dev, options, out, keep=False)
    except ValidationError as exc:
        out.diff, out.diff_source = f"(no diff: {exc.message})", "unavailable"
        return
    old, new = normalise(before, dev.platform), normalise(after, dev.platform)
    diff = config_diff(old, new, family, hierarchical=True)
    out.diff, out.diff_source, out.baseline = diff.text, "running", "device"


def predicted_family(dev: Device) -> str | None:
    """The predicted platform family of the session's platform (a user platform that
    extends ``cisco_ios`` keeps its TextFSM name), or None."""
    for name in (dev.platform.name, dev.platform.textfsm_platform):
        if name in PREDICTED:
            return name
    return None


async def dry_run(
    dev: Device, plan: ChangePlan, options: JobOptions
) -> tuple[ConfigResult, ChangeOutcome]:
    """The diff without applying anything."""
    out = ChangeOutcome()
    if dev.platform.commit is not None:
        cfg = await dev.send_config(plan.lines, dry_run=True, timeout=options.command_timeout_s)
        out.diff, out.diff_source = cfg.diff, "device"
        return cfg, out
    cfg = ConfigResult(lines=list(plan.lines), dry_run=True)
    if predicted_family(dev) is not None:
        try:
            cfg.diff = await _predicted(dev, plan, options, out)
            out.diff_source = "predicted"
        except ValidationError as exc:
            cfg.ok, cfg.error, cfg.error_kind = False, exc.message, exc.kind
    else:
        cfg.diff = "\n".join(plan.lines)
        out.diff_source = "lines"
    cfg.results = list(out.steps)
    out.diff = cfg.diff
    return cfg, out


async def _checks(
    dev: Device, checks: Sequence[CheckSpec], timeout: float | None, out: ChangeOutcome
) -> list[CommandResult]:
    results = []
    for check in checks:
        result = await _run(dev, check.command, parse=check.parse, timeout=timeout)
        results.append(result)
        out.steps.append(result)
    return results


async def apply(
    dev: Device, plan: ChangePlan, options: JobOptions
) -> tuple[ConfigResult, ChangeOutcome]:
    """Pre-checks, snapshot, push, post-checks, then confirm or roll back.

    A session failure (timeout, lost connection) ends the change where it was: the
    outputs so far are kept and ``outcome.broken`` holds the error."""
    out = ChangeOutcome()
    try:
        return await _apply(dev, plan, options, out)
    except DeviceError as exc:
        out.broken = exc
        cfg = ConfigResult(lines=list(plan.lines), results=list(out.steps))
        cfg.ok, cfg.error, cfg.error_kind = False, exc.message, exc.kind
        cfg.partially_applied = out.partially_applied = out.sent
        if out.rollback_reason is None:
            out.rollback_reason = _broken_reason(dev, plan, exc)
        return cfg, out


def _broken_reason(dev: Device, plan: ChangePlan, exc: DeviceError) -> str:
    wants = plan.rollback is not None and plan.rollback.enabled
    if not wants:
        return f"the session failed ({exc.message}); rollback was not requested"
    if dev.platform.commit is not None:
        assert plan.rollback is not None
        return (
            f"the session failed ({exc.message}); an unconfirmed commit reverts by itself "
            f"within {plan.rollback.confirm_timeout_s} s"
        )
    return (
        f"the session failed ({exc.message}); the pre-change configuration stays on the "
        "device for a manual restore"
    )


async def _apply(
    dev: Device, plan: ChangePlan, options: JobOptions, out: ChangeOutcome
) -> tuple[ConfigResult, ChangeOutcome]:
    timeout = options.command_timeout_s
    wants_rollback = plan.rollback is not None and plan.rollback.enabled
    candidate = dev.platform.commit is not None
    cfg = ConfigResult(lines=list(plan.lines))
    before = await _checks(dev, plan.checks, timeout, out)
    broken = next((r for r in before if not r.ok), None)
    if broken is not None:
        return _refuse(cfg, out, f"pre-check {broken.command!r} failed: {broken.error}")
    snapshot = wants_rollback and not candidate
    if snapshot and not rb.can_restore(dev):
        return _refuse(cfg, out, f"{dev.platform.display_name} has no rollback mechanism")
    running_before = (
        None if candidate else await _diff_before_push(dev, plan, options, out, snapshot)
    )
    if snapshot:
        taken = await rb.take_snapshot(dev, timeout=timeout or dev.command_timeout)
        out.steps.extend(taken)
        if not taken[-1].ok:
            return _refuse(cfg, out, f"pre-change snapshot failed: {taken[-1].error}")
    confirm_s = plan.rollback.confirm_timeout_s if wants_rollback and plan.rollback else None
    if candidate and wants_rollback and not (dev.platform.commit and dev.platform.commit.confirmed):
        return _refuse(cfg, out, f"{dev.platform.display_name} has no commit confirmed")
    out.sent = True
    pushed = await dev.send_config(
        plan.lines,
        save=options.save and not wants_rollback,
        commit=options.commit,
        timeout=timeout,
        confirm_s=confirm_s if candidate else None,
    )
    out.steps.extend(pushed.results)
    out.applied_lines = list(pushed.applied_lines)
    out.failed_line, out.partially_applied = pushed.failed_line, pushed.partially_applied
    if candidate:
        out.diff, out.diff_source = pushed.diff, "device"
    elif running_before is not None and (pushed.ok or pushed.applied_lines):
        await _diff_after_push(dev, running_before, options, out)
    elif not pushed.ok and out.diff_source == "predicted" and out.predicted_from is not None:
        await _diff_of_failed_push(dev, pushed.applied_lines, options, out)
    cfg = pushed
    if not candidate and out.diff is not None:
        cfg.diff = out.diff
    failure: str | None = None
    if not pushed.ok:
        failure = f"the push failed: {pushed.error}"
    elif plan.checks:
        after = await _checks(dev, plan.checks, timeout, out)
        out.checks = [evaluate(c, b, a) for c, b, a in zip(plan.checks, before, after, strict=True)]
        failed = [c for c in out.checks if not c.ok]
        if failed:
            failure = "post-check failed: " + "; ".join(
                f"{c.check.label}: {c.reason}" for c in failed
            )
    if failure is None:
        await _keep(dev, options, pushed, candidate and wants_rollback, snapshot, out)
    else:
        await _undo(dev, pushed, out, failure, wants_rollback, candidate, plan)
    cfg.results = list(out.steps)
    if failure is not None:
        cfg.ok = False
        cfg.error = failure
        cfg.error_kind = cfg.error_kind or "check_failed"
    return cfg, out


def _refuse(
    cfg: ConfigResult, out: ChangeOutcome, reason: str
) -> tuple[ConfigResult, ChangeOutcome]:
    cfg.ok, cfg.error, cfg.error_kind = False, f"{reason}; nothing was sent", "check_failed"
    cfg.results = list(out.steps)
    out.rollback_reason = "nothing was changed"
    return cfg, out


async def _keep(
    dev: Device,
    options: JobOptions,
    pushed: ConfigResult,
    confirm: bool,
    snapshot: bool,
    out: ChangeOutcome,
) -> None:
    timeout = options.command_timeout_s or dev.command_timeout
    if confirm and pushed.committed:
        steps = await rb.confirm_commit(dev, timeout=timeout)
        out.steps.extend(steps)
        if steps and not steps[-1].ok:
            pushed.ok, pushed.error = False, f"confirming the commit failed: {steps[-1].error}"
    if snapshot:
        out.steps.extend(await rb.drop_snapshot(dev, timeout=timeout))
    if options.save and (confirm or snapshot) and pushed.ok:
        saved = await dev.save_config(timeout=timeout)
        out.steps.append(saved)
        pushed.saved = saved.ok


async def _undo(
    dev: Device,
    pushed: ConfigResult,
    out: ChangeOutcome,
    failure: str,
    wants_rollback: bool,
    candidate: bool,
    plan: ChangePlan,
) -> None:
    timeout = dev.command_timeout
    if candidate and not pushed.committed:
        out.rollback_reason = f"{failure}; nothing was committed (candidate discarded)"
        return
    if not candidate and not pushed.applied_lines:
        if wants_rollback:
            out.steps.extend(await rb.drop_snapshot(dev, timeout=timeout))
        out.rollback_reason = f"{failure}; no line was applied"
        return
    if not wants_rollback:
        out.rollback_reason = f"{failure}; rollback was not requested: the change stays"
        return
    try:
        if candidate:
            steps = await rb.revert_commit(dev, timeout=timeout)
            if steps is None:
                assert plan.rollback is not None
                out.rolled_back = True
                out.rollback_reason = (
                    f"{failure}; left the commit unconfirmed: the device reverts it within "
                    f"{plan.rollback.confirm_timeout_s} s"
                )
                return
        else:
            steps = await rb.restore_snapshot(dev, timeout=timeout)
    except DeviceError as exc:
        out.rollback_reason = f"{failure}; the rollback failed: {exc.message}"
        raise
    out.steps.extend(steps)
    first_bad = next((s for s in steps if not s.ok), None)
    ok = first_bad is None if candidate else bool(steps) and steps[0].ok
    out.rolled_back = ok
    how = "reverted the commit" if candidate else "replaced the running configuration"
    out.rollback_reason = (
        f"{failure}; {how} with the one from before the change"
        if ok
        else f"{failure}; the rollback failed: {(first_bad or steps[0]).error}"
    )

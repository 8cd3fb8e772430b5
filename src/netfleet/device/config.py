"""Configuration pushes, commits, dry runs and saving.

``push_config`` steps: enter the configuration level; send each line (stop at
the first line the device rejects unless ``stop_on_error=False``); then

* candidate platforms (Junos, IOS-XR): capture the candidate diff
  (``show | compare``); a dry run or a failed line discards the candidate
  (``rollback 0`` / ``abort``); otherwise ``commit check`` (if the platform has
  one) and ``commit``; ``commit=False`` leaves the candidate uncommitted and the
  session in configuration mode;
* other platforms: a dry run sends nothing and reports the lines that would be
  sent in ``diff``;

then return to the default level and, with ``save=True``, save the config.
"""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING

from netfleet.core.errors import DeviceError
from netfleet.core.models import CommandResult
from netfleet.device import modes
from netfleet.device.results import ConfigResult

if TYPE_CHECKING:
    from netfleet.device.device import Device

_HOSTNAME_RE = re.compile(r"^\s*hostname\s+(\S+)\s*$")


async def push_config(
    dev: Device,
    lines: list[str],
    *,
    save: bool,
    commit: bool,
    dry_run: bool,
    stop_on_error: bool,
    timeout: float,
    confirm_s: int | None = None,
) -> ConfigResult:
    """``confirm_s``: commit with the platform's ``commit confirmed`` (the device reverts
    after that many seconds unless ``confirm_commit`` follows)."""
    spec = dev.platform
    cspec = spec.commit
    enter = cspec.confirmed_enter if cspec is not None and confirm_s and not dry_run else None
    result = ConfigResult(lines=list(lines), dry_run=dry_run, started_at=time.time())
    t0 = time.perf_counter()
    if dry_run and cspec is None:
        result.diff = "\n".join(lines)
        result.duration_ms = (time.perf_counter() - t0) * 1000.0
        return result
    failed: CommandResult | None = None
    new_host: str | None = None
    try:
        await modes.goto(dev, spec.config_level, enter=enter)
        for step in _steps(dev, lines):
            renamed = (
                (dev.compiled.hostname_line or _HOSTNAME_RE).match(step[0])
                if len(step) == 1
                else None
            )
            if renamed is not None and cspec is not None:
                new_host = renamed.group(1)  # shown once committed
            rename = renamed.group(1) if renamed is not None and cspec is None else None
            r = await _send_step(dev, step, timeout=timeout, rename=rename)
            result.results.append(r)
            if r.ok:
                result.applied_lines.extend(step)
            elif failed is None:
                failed = r
                result.failed_line = r.command
                if stop_on_error:
                    break
        if cspec is not None:
            failed = await _finish_candidate(
                dev,
                result,
                failed,
                commit=commit,
                timeout=timeout,
                rename=new_host,
                confirm_s=confirm_s,
            )
            if not result.committed:
                result.applied_lines = []  # the candidate was discarded (or left uncommitted)
            if not commit and failed is None and not dry_run:
                _finish(result, failed, t0)
                return result
        await modes.goto(dev, dev.home_level)
    except DeviceError as exc:
        result.ok = False
        result.error = exc.reason
        result.error_kind = exc.kind
        if cspec is not None and not result.committed:
            result.applied_lines = []
        result.partially_applied = bool(result.applied_lines)
        result.duration_ms = (time.perf_counter() - t0) * 1000.0
        return result
    _finish(result, failed, t0)
    if save and result.ok and not dry_run:
        r = await save_config(dev, timeout=timeout)
        result.results.append(r)
        result.saved = r.ok
        _finish(result, None if r.ok else r, t0)
    return result


async def _finish_candidate(
    dev: Device,
    result: ConfigResult,
    failed: CommandResult | None,
    *,
    commit: bool,
    timeout: float,
    rename: str | None,
    confirm_s: int | None = None,
) -> CommandResult | None:
    cspec = dev.platform.commit
    assert cspec is not None
    if cspec.top:
        await dev.send_command(cspec.top, timeout=timeout)
    diff = await dev.send_command(cspec.diff, timeout=timeout)
    result.diff = diff.output
    if failed is not None or result.dry_run:
        result.results.append(await dev.send_command(cspec.rollback, timeout=timeout))
        return failed
    if not commit:
        return None
    if cspec.check:
        check = await dev.send_command(cspec.check, timeout=timeout)
        result.results.append(check)
        if not check.ok:
            result.results.append(await dev.send_command(cspec.rollback, timeout=timeout))
            return check
    command = cspec.commit
    if confirm_s and cspec.confirmed:
        command = cspec.confirmed.format(minutes=max(1, -(-confirm_s // 60)), seconds=confirm_s)
    done = await dev.command(command, timeout=timeout, rename=rename)
    result.results.append(done)
    if not done.ok:
        result.results.append(await dev.send_command(cspec.rollback, timeout=timeout))
        return done
    result.committed = True
    return None


def _steps(dev: Device, lines: list[str]) -> list[list[str]]:
    """The lines grouped into what is sent as one: a line, or a multi-line block (an IOS
    ``banner motd ^C`` ... ``^C``) as the platform's ``multiline`` patterns describe."""
    blocks = dev.compiled.multiline
    steps: list[list[str]] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        end = None
        for start, end_template in blocks:
            m = start.match(line)
            if m is not None:
                end = _block_end(end_template, m, line)
                break
        if end is None:
            steps.append([line])
            i += 1
            continue
        j = i + 1
        while j < len(lines) and not end.search(lines[j]):
            j += 1
        steps.append(lines[i : j + 1])
        i = j + 1
    return steps


def _block_end(template: str, m: re.Match[str], line: str) -> re.Pattern[str] | None:
    """The pattern that ends the block ``line`` opens; None if it opens none (a banner
    closed on its own line, ``banner motd ^Chello^C``)."""
    delim = m.group(1) if m.re.groups else ""
    if delim and delim in line[m.end() :]:
        return None
    return re.compile(template.replace("{delim}", re.escape(delim)))


async def _send_step(
    dev: Device, step: list[str], *, timeout: float, rename: str | None
) -> CommandResult:
    level = dev.platform.config_level
    if len(step) == 1:
        return await dev.command(step[0], timeout=timeout, rename=rename, level=level)
    # The device reads the block's lines without prompting; the prompt comes after the last.
    started = time.time()
    t0 = time.perf_counter()
    term = dev.platform.terminator
    reply = await dev.send(
        term.join(step) + term, timeout=timeout, raw=True, label=step[0], level=level
    )
    error = dev.compiled.find_error(reply.output)
    return CommandResult(
        command="\n".join(step),
        output=reply.output,
        ok=error is None and reply.at_prompt,
        error=error,
        error_kind="command_error" if error else None,
        started_at=started,
        duration_ms=(time.perf_counter() - t0) * 1000.0,
    )


def _finish(result: ConfigResult, failed: CommandResult | None, t0: float) -> None:
    if failed is not None:
        result.partially_applied = bool(result.applied_lines)
        result.ok = False
        result.error = f"{failed.command!r}: {failed.error}"
        result.error_kind = failed.error_kind or "command_error"
    result.duration_ms = (time.perf_counter() - t0) * 1000.0


async def save_config(dev: Device, *, timeout: float) -> CommandResult:
    """Run the platform's save command, answering its confirmation questions."""
    spec = dev.platform
    started_at = time.time()
    t0 = time.perf_counter()
    if not spec.save_command:
        return CommandResult(
            command="",
            output=f"{spec.display_name} keeps committed configuration; nothing to save",
            started_at=started_at,
        )
    await modes.goto(dev, modes.privileged_level(spec))
    confirms = dev.compiled.save_confirm
    question = (
        re.compile("|".join(f"(?:{p.pattern})" for p, _ in confirms), re.M) if confirms else None
    )
    reply = await dev.send(spec.save_command, timeout=timeout, expect=question)
    texts = [reply.output]
    for _ in range(len(confirms) + 2):
        if reply.at_prompt or question is None:
            break
        asked = reply.question
        answer = next((a for p, a in confirms if p.search(asked)), "\n")
        reply = await dev.send(answer, timeout=timeout, expect=question, raw=True, label="save")
        texts.append(asked + reply.output)
    text = "\n".join(t for t in texts if t).strip("\n")
    error = dev.compiled.find_error(text)
    return CommandResult(
        command=spec.save_command,
        output=text,
        ok=error is None,
        error=error,
        error_kind="command_error" if error else None,
        started_at=started_at,
        duration_ms=(time.perf_counter() - t0) * 1000.0,
    )

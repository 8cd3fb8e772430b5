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

from netfleet.channel import strip_echo
from netfleet.core.errors import DeviceError
from netfleet.core.models import CommandResult
from netfleet.device import modes
from netfleet.device.results import ConfigResult
from netfleet.platforms import compiled

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
) -> ConfigResult:
    spec = dev.platform
    cspec = spec.commit
    result = ConfigResult(lines=list(lines), dry_run=dry_run, started_at=time.time())
    t0 = time.perf_counter()
    if dry_run and cspec is None:
        result.diff = "\n".join(lines)
        result.duration_ms = (time.perf_counter() - t0) * 1000.0
        return result
    failed: CommandResult | None = None
    try:
        await modes.goto(dev, spec.config_level)
        for line in lines:
            renamed = _HOSTNAME_RE.match(line) if cspec is None else None
            if renamed is not None:
                dev.relearn_prompt_pattern(renamed.group(1))
            r = await dev.send_command(line, timeout=timeout)
            result.results.append(r)
            if not r.ok and failed is None:
                failed = r
                if stop_on_error:
                    break
        if cspec is not None:
            failed = await _finish_candidate(dev, result, failed, commit=commit, timeout=timeout)
            if not commit and failed is None and not dry_run:
                _finish(result, failed, t0)
                return result
        await modes.goto(dev, spec.default_level)
    except DeviceError as exc:
        result.ok = False
        result.error = exc.reason
        result.error_kind = exc.kind
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
    done = await _commit(dev, cspec.commit, result.lines, timeout)
    result.results.append(done)
    if not done.ok:
        result.results.append(await dev.send_command(cspec.rollback, timeout=timeout))
        return done
    result.committed = True
    return None


async def _commit(dev: Device, command: str, lines: list[str], timeout: float) -> CommandResult:
    """``commit``; when ``lines`` rename the device, its prompt changes here: follow it."""
    rename = dev.compiled.hostname_line
    names = [m.group(1) for m in map(rename.match, lines) if m] if rename else []
    if not names:
        return await dev.send_command(command, timeout=timeout)
    unpinned = compiled(dev.platform)
    done = await dev.send_command(command, timeout=timeout, expect=unpinned.any_prompt.pattern)
    if dev.prompt_matched_last:
        return done  # the old prompt: the commit failed (or did not rename)
    m = unpinned.any_prompt.search(dev.last_question)
    level, host = modes.level_of(unpinned, m) if m else ("", "")
    if m is None or not re.search(rf"(?:\A|[@:]){re.escape(names[-1])}(?:\Z|:)", host):
        dev._dirty = True  # out of step: never reuse this session
        raise DeviceError(
            f"{command!r}: expected a prompt with hostname {names[-1]!r}, saw "
            f"{dev.last_question.strip()!r}",
            device=dev.name,
        )
    dev.relearn_prompt_pattern(host)
    dev.level, dev.prompt = level, m.group(0).strip()
    return done


def _finish(result: ConfigResult, failed: CommandResult | None, t0: float) -> None:
    if failed is not None:
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
    output, m = await dev._run(spec.save_command, timeout, expect=question)
    texts = [output]
    for _ in range(len(confirms) + 2):
        if dev.prompt_matched_last or question is None:
            break
        asked = m.group(0)
        answer = next((a for p, a in confirms if p.search(asked)), "\n")
        at_prompt, m, text = await dev.exchange(answer, timeout, expect=question, label="save")
        dev.prompt_matched_last = at_prompt
        texts.append(asked + text)
    text = strip_echo("\n".join(t for t in texts if t), spec.save_command).strip("\n")
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

"""Undoing a configuration change on the device itself.

* Candidate platforms: ``confirm_commit`` makes a ``commit confirmed`` permanent;
  ``revert_commit`` restores the configuration before it (Junos ``rollback 1`` +
  ``commit``), or returns None where the platform only reverts at the deadline.
* Others (``PlatformSpec.restore``): ``take_snapshot`` saves the running configuration
  on the device (``copy running-config flash:...``, an NX-OS checkpoint) and
  ``restore_snapshot`` replaces the running configuration with it (``configure
  replace``, ``rollback running-config checkpoint``).

Each returns the ``CommandResult`` of every command sent, in order.
"""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING

from netfleet.core.models import CommandResult
from netfleet.device import modes

if TYPE_CHECKING:
    from netfleet.device.device import Device


async def ask(
    dev: Device, command: str, answers: tuple[tuple[str, str], ...], *, timeout: float
) -> CommandResult:
    """Send ``command`` at the current level, answering its questions from ``answers``."""
    started_at, t0 = time.time(), time.perf_counter()
    pairs = [(re.compile(p, re.M), a) for p, a in answers]
    question = re.compile("|".join(f"(?:{p.pattern})" for p, _ in pairs), re.M) if pairs else None
    reply = await dev.send(command, timeout=timeout, expect=question)
    texts = [reply.output]
    for _ in range(len(pairs) + 2):
        if reply.at_prompt or question is None:
            break
        asked = reply.question
        answer = next((a for p, a in pairs if p.search(asked)), "\n")
        reply = await dev.send(answer, timeout=timeout, expect=question, raw=True, label=command)
        texts.append(asked + reply.output)
    text = "\n".join(t for t in texts if t).strip("\n")
    error = dev.compiled.find_error(text)
    return CommandResult(
        command=command,
        output=text,
        ok=error is None and reply.at_prompt,
        error=error if error is not None or reply.at_prompt else "no prompt after the answers",
        error_kind="command_error" if error is not None or not reply.at_prompt else None,
        started_at=started_at,
        duration_ms=(time.perf_counter() - t0) * 1000.0,
    )


def can_restore(dev: Device) -> bool:
    return dev.platform.restore is not None


async def take_snapshot(dev: Device, *, timeout: float) -> list[CommandResult]:
    """Save the running configuration on the device; the last result says if it worked."""
    spec = dev.platform.restore
    assert spec is not None
    await modes.goto(dev, modes.privileged_level(dev.platform))
    out = []
    if spec.prepare:
        out.append(await ask(dev, spec.prepare.format(name=spec.name), (), timeout=timeout))
    command = spec.snapshot.format(name=spec.name)
    out.append(await ask(dev, command, spec.answers, timeout=timeout))
    return out


async def restore_snapshot(dev: Device, *, timeout: float) -> list[CommandResult]:
    """Replace the running configuration with the snapshot (then delete it, if the
    platform says how); the first result says if the replace worked."""
    spec = dev.platform.restore
    assert spec is not None
    await modes.goto(dev, modes.privileged_level(dev.platform))
    out = [await ask(dev, spec.replace.format(name=spec.name), spec.answers, timeout=timeout)]
    if spec.cleanup:
        out.append(await ask(dev, spec.cleanup.format(name=spec.name), (), timeout=timeout))
    return out


async def drop_snapshot(dev: Device, *, timeout: float) -> list[CommandResult]:
    """Delete the snapshot after a change that stays (where the platform says how)."""
    spec = dev.platform.restore
    if spec is None or not spec.cleanup:
        return []
    await modes.goto(dev, modes.privileged_level(dev.platform))
    return [await ask(dev, spec.cleanup.format(name=spec.name), (), timeout=timeout)]


async def _in_config(dev: Device, commands: tuple[str, ...], timeout: float) -> list[CommandResult]:
    cspec = dev.platform.commit
    assert cspec is not None
    await modes.goto(dev, dev.platform.config_level, enter=cspec.confirmed_enter)
    out = []
    for command in commands:
        result = await dev.command(command, timeout=timeout, level=dev.platform.config_level)
        out.append(result)
        if not result.ok:
            break
    await modes.goto(dev, dev.home_level)
    return out


async def confirm_commit(dev: Device, *, timeout: float) -> list[CommandResult]:
    """Make a pending ``commit confirmed`` permanent."""
    cspec = dev.platform.commit
    assert cspec is not None
    return await _in_config(dev, (cspec.confirm,), timeout)


async def revert_commit(dev: Device, *, timeout: float) -> list[CommandResult] | None:
    """Restore the configuration before the pending confirmed commit; None where the
    platform has no explicit revert (it reverts by itself at the deadline)."""
    cspec = dev.platform.commit
    assert cspec is not None
    if not cspec.revert:
        return None
    return await _in_config(dev, cspec.revert, timeout)

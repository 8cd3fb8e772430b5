"""Moving between CLI levels (enable, configure, end) and running command lists."""

from __future__ import annotations

import dataclasses
import re
import time
from typing import TYPE_CHECKING

from netfleet.core.errors import ConnectionLost, DeviceError, PrivilegeError, ValidationError
from netfleet.core.models import CommandResult
from netfleet.device.results import NOT_RUN
from netfleet.platforms import CompiledPlatform, PlatformSpec
from netfleet.platforms.spec import PrivilegeLevel

if TYPE_CHECKING:
    from netfleet.device.device import Device
    from netfleet.device.session import DeviceSession

STRATEGIES = ("continue", "abort_first", "abort_after_n")
_MAX_PASSWORD_PROMPTS = 3


def level_of(platform: CompiledPlatform, m: re.Match[str]) -> tuple[str, str]:
    """(level name, hostname) of a match of ``platform.any_prompt``."""
    group = m.lastgroup
    index = -1
    if group is not None and group.startswith("_lvl"):
        index = int(group[4:])
    else:
        for i in range(len(platform.spec.levels)):
            if m.start(f"_lvl{i}") >= 0:
                index = i
                break
    host_group = f"_host{index}"
    host = m.group(host_group) if host_group in m.re.groupindex else None
    return platform.spec.levels[index].name, host or ""


def privileged_level(spec: PlatformSpec) -> str:
    """The level ``enable()`` enters: the one named ``privileged`` (``enable``, ``sudo -s``),
    else the default level (Junos has no privileged level)."""
    names = [lv.name for lv in spec.levels]
    return "privileged" if "privileged" in names else spec.default_level


async def goto(dev: DeviceSession, target: str, *, enter: str | None = None) -> None:
    """Move the session to level ``target``, entering or leaving levels one at a time;
    ``enter`` replaces the command that enters ``target`` (Junos ``configure exclusive``)."""
    spec = dev.platform
    names = [lv.name for lv in spec.levels]
    timeout = dev.command_timeout
    await dev.ready()  # never trust the level of a session that a failure left out of step
    for _ in range(2 * len(names) + 2):
        current = names.index(dev.level)
        wanted = names.index(target)
        if current == wanted:
            return
        if current < wanted:
            await _enter(dev, current + 1, timeout, enter if current + 1 == wanted else None)
            if names.index(dev.level) <= current:
                raise PrivilegeError(f"could not enter {names[current + 1]} level", device=dev.name)
        else:
            await _leave(dev, current, timeout)
            if names.index(dev.level) >= current:
                raise PrivilegeError(f"could not leave {names[current]} level", device=dev.name)
    raise PrivilegeError(f"could not reach the {target} level", device=dev.name)


async def _enter(
    dev: DeviceSession, index: int, timeout: float, command: str | None = None
) -> None:
    level = dev.platform.levels[index]
    if command is not None:
        level = dataclasses.replace(level, enter=command, enter_fallback=())
    if level.enter is None:
        raise PrivilegeError(f"the {level.name} level cannot be entered", device=dev.name)
    password = dev.compiled.password_prompts.get(level.name)
    reply = await dev.send(level.enter, timeout=timeout, expect=password)
    if reply.at_prompt or password is None:
        error = dev.compiled.find_error(reply.output)
        if error is not None and dev.level != level.name:
            await _enter_fallback(dev, level, f"{level.enter!r} refused: {error}", timeout)
        return
    secret = dev.enable_secret
    if secret is None:
        # Get back to a prompt before failing: an empty answer is refused by the device.
        await _answer_until_prompt(dev, "", password, timeout)
        raise PrivilegeError(
            f"{level.enter!r} asks for a password and no enable secret is configured",
            device=dev.name,
        )
    answer = await dev.send(
        secret + dev.platform.terminator, timeout=timeout, expect=password, secret=True
    )
    if not answer.at_prompt:
        await _answer_until_prompt(dev, "", password, timeout)
        raise PrivilegeError(f"{level.enter!r}: enable secret rejected", device=dev.name)
    if dev.level != level.name:
        message = dev.compiled.find_error(answer.output) or answer.output.strip() or "refused"
        raise PrivilegeError(f"{level.enter!r}: {message}", device=dev.name)


async def _enter_fallback(
    dev: DeviceSession, level: PrivilegeLevel, refused: str, timeout: float
) -> None:
    """Try ``level.enter_fallback`` in order after ``level.enter`` was refused."""
    reasons = [refused]
    for command in level.enter_fallback:
        output = (await dev.send(command, timeout=timeout)).output
        if dev.level == level.name:
            return
        error = dev.compiled.find_error(output) or output.strip() or "no change of prompt"
        reasons.append(f"{command!r} refused: {error}")
    raise PrivilegeError("; ".join(reasons), device=dev.name)


async def _answer_until_prompt(
    dev: DeviceSession, answer: str, question: re.Pattern[str], timeout: float
) -> None:
    for _ in range(_MAX_PASSWORD_PROMPTS):
        reply = await dev.send(
            answer + dev.platform.terminator, timeout=timeout, expect=question, secret=True
        )
        if reply.at_prompt:
            return
    raise PrivilegeError("the device keeps asking for a password", device=dev.name)


async def _leave(dev: DeviceSession, index: int, timeout: float) -> None:
    """Send the level's ``exit`` (up to ``exit_repeat`` times, one per sub-mode)."""
    level = dev.platform.levels[index]
    for _ in range(level.exit_repeat):
        await _leave_once(dev, index, timeout)
        if dev.level != level.name:
            return


async def _leave_once(dev: DeviceSession, index: int, timeout: float) -> None:
    level = dev.platform.levels[index]
    if level.exit is None:
        raise PrivilegeError(f"the {level.name} level cannot be left", device=dev.name)
    confirms = dev.compiled.exit_confirm.get(level.name, ())
    question = (
        re.compile("|".join(f"(?:{p.pattern})" for p, _ in confirms), re.M) if confirms else None
    )
    reply = await dev.send(level.exit, timeout=timeout, expect=question)
    for _ in range(len(confirms) + 1):
        if reply.at_prompt or question is None:
            return
        tail = reply.question
        answer = next((a for p, a in confirms if p.search(tail)), confirms[0][1])
        reply = await dev.send(answer, timeout=timeout, expect=question, raw=True, label=level.exit)
    if not reply.at_prompt:
        raise PrivilegeError(f"{level.exit!r} kept asking questions", device=dev.name)


async def run_commands(
    dev: Device,
    commands: list[str],
    *,
    failure_strategy: str,
    failure_n: int,
    timeout: float | None,
    parse: str | None,
) -> list[CommandResult]:
    """Run ``commands`` under a failure strategy; one result per command."""
    if failure_strategy not in STRATEGIES:
        raise ValidationError(
            f"unknown failure strategy {failure_strategy!r}; use one of {', '.join(STRATEGIES)}"
        )
    limit = 1 if failure_strategy == "abort_first" else max(1, failure_n)
    results: list[CommandResult] = []
    failures = 0
    stop: str | None = None
    for command in commands:
        if stop is not None:
            results.append(CommandResult(command=command, ok=False, error=stop, error_kind=NOT_RUN))
            continue
        started = time.time()
        try:
            result = await dev.send_command(command, timeout=timeout, parse=parse)
        except DeviceError as exc:
            result = CommandResult(
                command=command,
                ok=False,
                error=exc.reason,
                error_kind=exc.kind,
                started_at=started,
                duration_ms=(time.time() - started) * 1000.0,
            )
            if isinstance(exc, ConnectionLost) or dev.closed:
                stop = f"not run: session lost at {command!r}"
        results.append(result)
        if not result.ok and result.error_kind != "template_not_found":
            failures += 1
            if failure_strategy != "continue" and failures >= limit and stop is None:
                stop = f"not run: aborted after {failures} failed command(s)"
    return results

"""After SSH login: reading the first prompt, and confirming it is the prompt.

``learn_prompt`` takes the first prompt-like last line. It is confirmed by the first
command opening sends (no extra round trip; ``confirm_echo``): that command's echo must
come on a line of its own or after the same prompt. Opening that sends no command, or
``probe``, sends a newline instead, whose prompt must agree. If it does not, the first
"prompt" was a banner line (a MOTD ending in ``core-sw1#``, sent before the real prompt):
the real prompt came first, the probe's answer is still to come, and is read.

The first read also watches for the prompts of the other registered platforms. A device
that goes quiet at one of them (``admin@r1>`` for a device listed as IOS) and prints no
prompt of its own within ``FOREIGN_GRACE_S`` fails at once with ``PlatformMismatch``,
naming the platforms that prompt belongs to, instead of waiting out the prompt timeout.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from netfleet.channel import Channel, FramingError, Hit, ReadTimeout
from netfleet.core.errors import (
    ConnectionLost,
    PlatformMismatch,
    PromptNotFound,
    SessionLimitReached,
)
from netfleet.device.modes import level_of
from netfleet.device.prompts import pin
from netfleet.platforms import CompiledPlatform, PlatformSpec, compiled, known_platforms
from netfleet.transport import is_busy_text

FOREIGN_GRACE_S = 3.0
"""How long a login waits for its own platform's prompt once the device has gone quiet at
another platform's prompt (a banner line may look like one) before ``PlatformMismatch``."""

Foreign = Sequence[tuple[str, re.Pattern[str]]]
"""Other platforms' prompt patterns, by platform name."""


def foreign_prompts(own: CompiledPlatform) -> Foreign:
    """The prompt pattern of every registered platform but ``own``."""
    out = []
    for name in known_platforms():
        other = compiled(name)
        if name != own.spec.name and other.any_prompt.pattern != own.any_prompt.pattern:
            out.append((name, other.any_prompt))
    return out


@dataclass(frozen=True, slots=True)
class Learned:
    """The prompt learned at login."""

    match: re.Match[str]
    level: str
    host: str
    banner: str
    """Text before the prompt (with a banner line that looked like a prompt)."""
    confirmed: bool
    """False: the first command's echo must still confirm it (``confirm_echo``)."""


@dataclass(frozen=True, slots=True)
class LoginReader:
    """Reads during login on one channel; errors name the device and what it printed."""

    channel: Channel
    device: str
    address: str
    platform_name: str

    async def read(
        self, prompt: re.Pattern[str], timeout: float, foreign: Foreign = ()
    ) -> tuple[re.Match[str], str]:
        """Read to a prompt; (match, text before it). ``foreign``: see the module."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        index, m, before = await self._read((prompt, *(p for _, p in foreign)), timeout)
        if not index:
            return m, before
        line = m.group(0)
        names = [name for name, pattern in foreign if pattern.search(line)]
        left = max(0.0, deadline - loop.time())
        try:
            _, m, after = await self._read((prompt,), min(FOREIGN_GRACE_S, left))
        except PromptNotFound:
            raise PlatformMismatch(
                f"no {self.platform_name} prompt after login: the device went quiet at "
                f"{line.strip()[-80:]!r}, a prompt of {_either(names)}; is the "
                "device's platform right?",
                device=self.device,
            ) from None
        return m, before + line + after

    async def _read(self, patterns: Sequence[re.Pattern[str]], timeout: float) -> Hit:
        channel = self.channel
        try:
            return await channel.read_until(patterns, timeout)
        except ReadTimeout as exc:
            seen = exc.text.strip()
            if is_busy_text(seen):
                raise SessionLimitReached(
                    f"refused the session: {seen[-120:]}", device=self.device
                ) from None
            raise PromptNotFound(
                f"no {self.platform_name} prompt within {timeout:g}s after login"
                + (f"; last text: {seen[-80:]!r}" if seen else ""),
                device=self.device,
            ) from None
        except ConnectionLost as exc:
            seen = channel.pending().strip()
            if is_busy_text(seen) or is_busy_text(exc.reason):
                raise SessionLimitReached(
                    f"refused the session: {(seen or exc.reason)[-120:]}", device=self.device
                ) from None
            detail = f": {seen[-120:]!r}" if seen else ""
            raise ConnectionLost(
                f"{self.address} closed the connection at login{detail}", device=self.device
            ) from None

    async def learn_prompt(
        self,
        platform: CompiledPlatform,
        terminator: str,
        timeout: float,
        *,
        probe: bool,
        sends_at_open: Callable[[str], bool],
    ) -> Learned:
        """The first prompt; probed unless opening sends a command at that prompt's level
        (``sends_at_open(level)``) and not ``probe``."""
        m, before = await self.read(platform.any_prompt, timeout, foreign_prompts(platform))
        level, host = level_of(platform, m)
        if not probe and sends_at_open(level):
            return Learned(m, level, host, before, confirmed=False)
        banner = before
        self.channel.write(terminator)
        m1, before1 = await self.read(platform.any_prompt, timeout)
        level1, host1 = level_of(platform, m1)
        if host1 != host or level1 != level:
            banner += m.group(0)  # the banner's last line, not a prompt
            m = m1
            level, host = level1, host1
            pinned = pin(platform, host) if host else platform
            if not any(pinned.any_prompt.search(line) for line in before1.splitlines()):
                # The probe's own prompt is still to come (it did not arrive with the real one).
                m2, _ = await self.read(pinned.any_prompt, timeout)
                level, _ = level_of(pinned, m2)
                m = m2
        return Learned(m, level, host, banner, confirmed=True)


def _either(names: list[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"


def home_level(platform: PlatformSpec, login_level: str, *, enable: bool) -> str:
    """The level opening goes to after a login at ``login_level``: up to the platform's
    default when ``enable`` (``enable_on_open`` and a secret, even an empty one, is
    known); never down (a Linux login as root stays root)."""
    names = [lv.name for lv in platform.levels]
    if not enable or names.index(login_level) >= names.index(platform.default_level):
        return login_level
    return platform.default_level


def confirm_echo(
    echo_line: str, command: str, pinned: CompiledPlatform, level: str, *, prompt: str, device: str
) -> None:
    """The first command after login confirms the prompt learned there: its echo is
    alone on its line, or follows that same prompt at the same level (a device
    redrawing the line). Anything else (another prompt before the echo) means a banner
    line was taken for the prompt: ``FramingError`` (opening then logs in again, probing)."""
    stripped = echo_line.rstrip()
    want = command.strip()
    prefix = stripped[: -len(want)] if want and stripped.endswith(want) else ""
    if not prefix.strip():
        return
    m = pinned.any_prompt.search(prefix)
    if m is not None and level_of(pinned, m)[0] == level:
        return
    raise FramingError(
        f"{want!r}: its echo came after the prompt {prefix.strip()[-80:]!r}, not after "
        f"the login prompt {prompt!r} (a banner line)",
        device=device,
        text=echo_line[-200:],
    )

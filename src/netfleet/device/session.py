"""``DeviceSession``: the I/O core of ``Device`` - login, prompt learning, command exchange.

A command is written, then the channel reads until the prompt pinned to the
hostname learned at login (or an ``expect`` pattern). After a timeout or a
lost connection the session is ``dirty``; the next command reopens it when
``auto_reconnect`` is on, so no command ever receives another command's output.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import replace
from pathlib import Path
from types import TracebackType
from typing import Self

from netfleet.channel import Channel, ReadTimeout, strip_echo
from netfleet.core.errors import (
    CommandTimeout,
    ConnectionLost,
    DeviceError,
    PromptNotFound,
    SessionLimitReached,
)
from netfleet.core.models import Credential, DeviceSpec
from netfleet.core.redact import Redactor
from netfleet.core.secretref import resolve_login
from netfleet.device import modes
from netfleet.device.sessionlog import SessionLog
from netfleet.platforms import CompiledPlatform, PlatformSpec, compiled
from netfleet.transport import (
    ConnectOptions,
    ConnectTimings,
    ShellTransport,
    is_busy_text,
    open_shell,
)

_CONTEXT_LINE = re.compile(r"(?:\A|\n+)\[edit(?: [^\]\n]*)?\]\Z")
"""The candidate-config context line Junos prints above a configuration-mode prompt."""
_PINNED: dict[tuple[int, str], CompiledPlatform] = {}
_PINNED_MAX = 8192


def _pin(platform: CompiledPlatform, host: str) -> CompiledPlatform:
    """``platform.pinned(host)``, cached for many more hostnames than the registry keeps."""
    key = (id(platform), host)
    hit = _PINNED.get(key)
    if hit is None or hit.spec is not platform.spec:
        if len(_PINNED) >= _PINNED_MAX:
            _PINNED.pop(next(iter(_PINNED)))
        hit = _PINNED[key] = platform.pinned(host)
    return hit


class DeviceSession:
    """One interactive shell on one device; ``Device`` adds the command API."""

    def __init__(
        self,
        platform: PlatformSpec,
        spec: DeviceSpec,
        options: ConnectOptions,
        *,
        enable_secret: str | None,
        command_timeout: float,
        skip_on_open: bool,
        auto_reconnect: bool,
        session_log: Path | None,
    ) -> None:
        self._platform = platform
        self._compiled: CompiledPlatform = compiled(platform)
        self._config_level = platform.config_level
        self.name = spec.name
        self._spec = spec
        self._enable_secret = enable_secret
        self._login_enable = enable_secret
        """The enable secret of the current login, references resolved."""
        self._options = options
        self.command_timeout = command_timeout
        self.skip_on_open = skip_on_open
        self.auto_reconnect = auto_reconnect
        self._session_log_path = session_log
        self._log: SessionLog | None = None
        self._transport: ShellTransport | None = None
        self._credential: Credential | None = None
        self._channel: Channel | None = None
        self._pinned: CompiledPlatform = self._compiled
        self._prompt: tuple[re.Pattern[str], ...] = (self._compiled.any_prompt,)
        self.level = ""
        """The CLI level the session is at (a ``PrivilegeLevel.name``)."""
        self.prompt = ""
        """The last prompt seen."""
        self.hostname = ""
        self.timings = ConnectTimings()
        self.banner = ""
        """The SSH auth banner and the text before the first prompt."""
        self._dirty = False
        self._closed = True
        self.commands_run = 0
        self.prompt_matched_last = True
        """Whether the last read ended at the prompt (False: at an ``expect`` pattern)."""
        self.last_question = ""

    def __repr__(self) -> str:
        state = "closed" if self._closed else ("dirty" if self._dirty else "open")
        return f"<Device {self.name} {self._platform.name} {self._spec.address} {state}>"

    # --- properties the pool uses ----------------------------------------------------

    @property
    def spec(self) -> DeviceSpec:
        return self._spec

    @property
    def platform(self) -> PlatformSpec:
        return self._platform

    @property
    def closed(self) -> bool:
        ch = self._channel
        return self._closed or ch is None or ch.closed

    @property
    def dirty(self) -> bool:
        """A command timed out or failed mid-way: the session must not be reused as is."""
        ch = self._channel
        return self._dirty or (ch is not None and ch.dirty)

    @property
    def credential(self) -> Credential | None:
        """The credential the session (last) logged in with."""
        return self._credential

    # --- lifecycle -------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        await self.open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def open(self) -> None:
        """Connect, log in, learn the prompt and run the platform's on-open commands."""
        if not self._closed:
            return
        loop = asyncio.get_running_loop()
        started = loop.time()
        login = await resolve_login(
            self._options.credentials,
            self._options.jump_host,
            self._enable_secret,
            device=self.name,
        )
        self._login_enable = login.enable_secret
        options = replace(self._options, credentials=login.credentials, jump_host=login.jump_host)
        if self._session_log_path is not None and self._log is None:
            secrets = [s for c in self._spec.credentials for s in c.secrets()]
            self._log = SessionLog(self._session_log_path, Redactor([*secrets, *login.secrets()]))
            self._log.mark(f"open {self.name} ({self._spec.address})")
        channel = Channel(device=self.name, on_data=self._log.received if self._log else None)
        self._channel = channel
        self.timings = ConnectTimings()
        try:
            self._transport = await open_shell(options, channel, timings=self.timings)
        except BaseException:
            await self.close()
            raise
        channel.attach(self._transport)
        self._credential = self._transport.credential
        self._closed = False
        self._dirty = False
        try:
            await self._learn_prompt(self._options.timeouts.prompt)
            self.timings.prompt_ms = (loop.time() - started) * 1000.0 - self.timings.total_ms
            if self._compiled.pager is not None:
                channel.set_pager(self._compiled.pager, self._platform.pager_answer)
            if not self.skip_on_open:
                for command in self._platform.on_open:
                    await self._run(command, self._options.timeouts.prompt)
        except BaseException:
            await self.close()
            raise
        self.timings.total_ms = (loop.time() - started) * 1000.0

    async def _learn_prompt(self, timeout: float) -> None:
        assert self._channel is not None
        assert self._transport is not None
        channel = self._channel
        try:
            _, m, before = await channel.read_until((self._compiled.any_prompt,), timeout)
        except ReadTimeout as exc:
            seen = exc.text.strip()
            if is_busy_text(seen):
                raise SessionLimitReached(
                    f"refused the session: {seen[-120:]}", device=self.name
                ) from None
            raise PromptNotFound(
                f"no {self._platform.display_name} prompt within {timeout:g}s after login"
                + (f"; last text: {seen[-80:]!r}" if seen else ""),
                device=self.name,
            ) from None
        except ConnectionLost as exc:
            seen = channel.pending().strip()
            if is_busy_text(seen) or is_busy_text(exc.reason):
                raise SessionLimitReached(
                    f"refused the session: {(seen or exc.reason)[-120:]}", device=self.name
                ) from None
            detail = f": {seen[-120:]!r}" if seen else ""
            raise ConnectionLost(
                f"{self._spec.address} closed the connection at login{detail}", device=self.name
            ) from None
        self.banner = (self._transport.banner + before).strip("\n")
        level, host = modes.level_of(self._compiled, m)
        self.hostname = host
        self._pinned = _pin(self._compiled, host) if host else self._compiled
        self._prompt = (self._pinned.any_prompt,)
        self.level = level
        self.prompt = m.group(0).strip()

    async def close(self) -> None:
        """Close the session (idempotent)."""
        self._closed = True
        transport, self._transport = self._transport, None
        if transport is not None:
            await transport.close()
        if self._log is not None:
            self._log.mark(f"close {self.name}")
            self._log.close()
            self._log = None

    async def reconnect(self) -> None:
        """Close and reopen the session (after a timeout left it out of step)."""
        await self.close()
        await self.open()

    # --- commands --------------------------------------------------------------------

    async def _ready(self) -> Channel:
        if self.dirty and not self.closed:
            if not self.auto_reconnect:
                raise ConnectionLost(
                    "session is out of step after a timeout; reconnect it", device=self.name
                )
            await self.reconnect()
        if self.closed or self._channel is None:
            ch = self._channel
            if ch is not None and ch.error is not None and not self._closed:
                raise ch.error
            raise ConnectionLost("session is closed", device=self.name)
        return self._channel

    async def exchange(
        self,
        data: str,
        timeout: float,
        *,
        expect: re.Pattern[str] | None = None,
        label: str = "",
        secret: bool = False,
    ) -> tuple[bool, re.Match[str], str]:
        """Write ``data`` as is; read to the prompt (True) or to ``expect`` (False).

        Returns (at_prompt, match, text before the match). ``secret`` data is never logged.
        """
        channel = await self._ready()
        if secret and self._log is not None:
            self._log.sent(data, secret=True)
        return await self._exchange(
            channel, data, timeout, expect, "<secret>" if secret else label or data.strip()
        )

    async def _exchange(
        self,
        channel: Channel,
        data: str,
        timeout: float,
        expect: re.Pattern[str] | None,
        label: str,
    ) -> tuple[bool, re.Match[str], str]:
        if channel.busy:
            raise DeviceError(
                f"{label!r}: another command is still running on this session "
                "(use one session per task, or a pool)",
                device=self.name,
            )
        channel.write(data)
        try:
            if expect is None:
                index, m, text = await channel.read_until(self._prompt, timeout)
            else:
                index, m, text = await channel.read_until(
                    (*self._prompt, expect), timeout, tail_only=False
                )
        except ReadTimeout:
            self._dirty = True
            raise CommandTimeout(
                f"{label!r}: no prompt within {timeout:g}s", device=self.name
            ) from None
        except ConnectionLost as exc:
            self._dirty = True
            raise ConnectionLost(f"{label!r}: {exc.reason}", device=self.name) from None
        if index == 0:
            self.level, _ = modes.level_of(self._pinned, m)
            self.prompt = m.group(0).strip()
            return True, m, text
        return False, m, text

    async def _run(
        self, command: str, timeout: float, *, expect: re.Pattern[str] | None = None
    ) -> tuple[str, re.Match[str]]:
        """Send one line and read up to the prompt (or ``expect``); returns (output, match)."""
        channel = self._channel
        if channel is None or self._dirty or self._closed or channel.closed or channel.dirty:
            channel = await self._ready()
        channel.drain()
        at_prompt, m, text = await self._exchange(
            channel, command + self._platform.terminator, timeout, expect, command
        )
        self.prompt_matched_last = at_prompt
        self.last_question = "" if at_prompt else m.group(0)
        self.commands_run += 1
        output = strip_echo(text, command)
        if output.endswith("\n"):
            output = output[:-1]
        if output.endswith("]") and self.level == self._config_level:
            output = _CONTEXT_LINE.sub("", output)
        return output, m

    # --- internals for modes/config -----------------------------------------------

    @property
    def compiled(self) -> CompiledPlatform:
        """The platform's regexes pinned to the learned hostname."""
        return self._pinned

    @property
    def enable_secret(self) -> str | None:
        cred = self.credential
        if cred is not None and cred.enable_secret:
            return cred.enable_secret
        return self._login_enable

    def relearn_prompt_pattern(self, host: str) -> None:
        """Pin prompts to a new hostname (after a ``hostname`` change)."""
        self.hostname = host
        self._pinned = _pin(self._compiled, host)
        self._prompt = (self._pinned.any_prompt,)

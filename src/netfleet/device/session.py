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

from netfleet.channel import Channel, FramingError, ReadTimeout
from netfleet.core.errors import (
    CommandTimeout,
    ConnectionLost,
    DeviceError,
    PrivilegeError,
)
from netfleet.core.models import Credential, DeviceSpec
from netfleet.core.secretref import resolve_login
from netfleet.device import modes
from netfleet.device.login import LoginReader, confirm_echo, home_level
from netfleet.device.masking import StreamMask, session_redactor
from netfleet.device.prompts import pin, renamed
from netfleet.device.reply import Reply, read_error
from netfleet.device.sessionlog import SessionLog
from netfleet.platforms import CompiledPlatform, PlatformSpec, compiled
from netfleet.transport import (
    ConnectOptions,
    ConnectTimings,
    ShellTransport,
    open_shell,
)


class _Unconfirmed(FramingError):
    """Opening failed before the first command confirmed the prompt learned at login."""


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
        enable: bool = True,
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
        self.enable_on_open = enable
        """Go up to the platform's default level (``enable``) on every open and reconnect."""
        self.home_level = platform.default_level
        """The level every open and ``reset`` goes to (below the default without a secret)."""
        self._session_log_path = session_log
        self._log: SessionLog | None = None
        self._redactor = session_redactor(platform.name, spec, enable_secret)
        self.mask_secrets = True
        """Mask secrets in everything the device prints (outputs, errors, parsed rows)."""
        self.keep_raw = False
        """Also return the unmasked text (``Reply.raw``) for the store to keep encrypted."""
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
        self._unconfirmed = False
        """The prompt learned at login awaits confirmation by the first command's echo."""
        self.commands_run = 0

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
        try:
            await self._open(probe=False)
        except _Unconfirmed:
            # The first command did not confirm the prompt learned at login (a prompt-like
            # banner line): log in again and confirm it with a probe.
            await self._open(probe=True)

    async def _open(self, *, probe: bool) -> None:
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
            resolved = login.secrets()
            if resolved:  # referenced secrets (env:, file:, exec:) are known only now
                self._redactor = session_redactor(
                    self._platform.name, self._spec, self._enable_secret, *resolved
                )
            self._log = SessionLog(self._session_log_path, self._redactor)
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
            await self._learn_prompt(self._options.timeouts.prompt, probe=probe)
            self.timings.prompt_ms = (loop.time() - started) * 1000.0 - self.timings.total_ms
            if self._compiled.pager is not None:
                channel.set_pager(self._compiled.pager, self._platform.pager_answer)
            await self._go_home()
            if not self.skip_on_open:
                for command in self._platform.on_open:
                    await self.send(command, timeout=self._options.timeouts.prompt)
        except (FramingError, CommandTimeout) as exc:
            unconfirmed = self._unconfirmed
            await self.close()
            if unconfirmed:
                raise _Unconfirmed(exc.message, device=self.name, text="") from exc
            raise
        except BaseException:
            await self.close()
            raise
        self.timings.total_ms = (loop.time() - started) * 1000.0

    async def _go_home(self) -> None:
        """After login: up to the home level (``netfleet.device.login.home_level``)."""
        self.home_level = home_level(self._platform, self.level, enable=self._enables())
        if self.home_level != self.level:
            await modes.goto(self, self.home_level)

    def _enables(self) -> bool:
        return self.enable_on_open and self.enable_secret is not None

    def _sends_at_open(self, level: str) -> bool:
        """Whether opening sends a framed command after login (``enable`` or on-open)."""
        if not self.skip_on_open and self._platform.on_open:
            return True
        return home_level(self._platform, level, enable=self._enables()) != level

    async def _learn_prompt(self, timeout: float, *, probe: bool) -> None:
        """Learn the prompt at login (``netfleet.device.login``) and pin it."""
        assert self._transport is not None
        assert self._channel is not None
        reader = LoginReader(
            self._channel, self.name, self._spec.address, self._platform.display_name
        )
        learned = await reader.learn_prompt(
            self._compiled,
            self._platform.terminator,
            timeout,
            probe=probe,
            sends_at_open=self._sends_at_open,
        )
        self._unconfirmed = not learned.confirmed
        host = learned.host
        self.banner = (self._transport.banner + learned.banner).strip("\n")
        self.hostname = host
        self._pinned = pin(self._compiled, host) if host else self._compiled
        self._prompt = (self._pinned.any_prompt,)
        self.level = learned.level
        self.prompt = learned.match.group(0).strip()

    async def close(self) -> None:
        """Close the session (idempotent)."""
        self._closed = True
        self._unconfirmed = False
        self._channel = None
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
        """The channel, reopened first if a previous read left it dirty or it was lost."""
        ch = self._channel
        if ch is not None and not (self._dirty or self._closed or ch.closed or ch.dirty):
            return ch
        if self._closed and (ch is None or ch.error is None):
            raise ConnectionLost("session is closed", device=self.name)
        if self._unconfirmed:  # opening: text after the login prompt (it was a banner line)
            stray = ch.stray[-80:] if ch is not None else ""
            raise FramingError(
                f"text after the login prompt {self.prompt!r}: {stray!r}",
                device=self.name,
                text=stray,
            )
        if not self.auto_reconnect:
            if ch is not None and ch.closed and ch.error is not None:
                raise ConnectionLost(
                    f"the connection was lost ({ch.error.message}); reconnect it",
                    device=self.name,
                )
            stray = f" (text after the last prompt: {ch.stray[-80:]!r})" if ch and ch.stray else ""
            raise ConnectionLost(
                f"session is out of step after an incomplete read{stray}; reconnect it",
                device=self.name,
            )
        await self.reconnect()
        assert self._channel is not None
        return self._channel

    async def ready(self) -> None:
        """Reopen the session now if it is dirty or lost (``auto_reconnect``), so that
        ``level`` is the device's real level; ConnectionLost otherwise."""
        await self._ready()

    async def send(
        self,
        text: str,
        *,
        timeout: float,
        expect: re.Pattern[str] | None = None,
        raw: bool = False,
        secret: bool = False,
        label: str = "",
        rename: str | None = None,
        level: str | None = None,
    ) -> Reply:
        """Send one line (or, with ``raw``, ``text`` as is) and read its framed reply.

        A command line must come back as its echo, then its output, then the pinned
        prompt as the last line once the output has gone quiet (or, with ``expect``,
        that question). ``raw`` and ``secret`` data (answers, passwords) are not
        echo-checked; ``secret`` data is never logged. ``rename``: the line changes the
        hostname, so the prompt of the new hostname is accepted too and, when it
        comes, pinned. ``level``: send only if the session is at that level (a session
        reopened after a failure is at its home level: configuration lines must not be
        sent there). Any failure (timeout, cancellation, lost connection, framing)
        leaves the session dirty, so it is never reused as is.
        """
        channel = await self._ready()
        if level is not None and self.level != level:
            raise PrivilegeError(
                f"{label or text.strip()!r} not sent: the session is at the {self.level} "
                f"level, not {level} (it was reopened after a failure)",
                device=self.name,
            )
        if channel.busy:
            raise DeviceError(
                f"{label or text.strip()!r}: another command is still running on this "
                "session (use one session per task, or a pool)",
                device=self.name,
            )
        label = "<secret>" if secret else label or text.strip()
        if secret and self._log is not None:
            self._log.sent(text, secret=True)
        channel.drain()
        prompts = self._prompt
        if rename is not None:
            rename = renamed(self.hostname, rename)
            prompts = (*prompts, pin(self._compiled, rename).any_prompt)
        patterns = prompts if expect is None else (*prompts, expect)
        data = text if raw or secret else text + self._platform.terminator
        echo = None if raw or secret else text
        stream = self._stream_mask() if echo is not None and expect is None else None
        channel.write(data)
        try:
            index, m, body = await channel.read_until(
                patterns, timeout, tail_only=expect is None, echo=echo, sink=stream
            )
        except (ReadTimeout, FramingError, ConnectionLost) as exc:
            self._dirty = True
            raise read_error(exc, label, timeout, self.name) from None
        except BaseException:
            self._dirty = True  # cancelled: the device may still print this command's output
            raise
        if self._unconfirmed and echo is not None:
            try:
                confirm_echo(
                    channel.echo_line,
                    text,
                    self._pinned,
                    self.level,
                    prompt=self.prompt,
                    device=self.name,
                )
            except FramingError:
                self._dirty = True
                raise
            self._unconfirmed = False
        at_prompt = index < len(prompts)
        if at_prompt:
            pinned = self._pinned
            if rename is not None and index == len(prompts) - 1 and index > 0:
                self._repin(rename)
                pinned = self._pinned
            self.level, _ = modes.level_of(pinned, m)
            self.prompt = m.group(0).strip()
        if not raw and not secret:
            self.commands_run += 1
        output: str | None = None
        if stream is None:
            output = body[:-1] if body.endswith("\n") else body
            output = self._compiled.strip_context(output)
            masked = await self.mask(output)
        else:  # streamed: no context lines to cut (``_stream_mask``), no copy of the body
            masked = await stream.finish(body)
        unmasked = None
        if self.keep_raw:
            if output is None:
                output = body[:-1] if body.endswith("\n") else body
            unmasked = output if masked != output else None
        return Reply(masked, m, at_prompt, "" if at_prompt else m.group(0), raw=unmasked)

    def _stream_mask(self) -> StreamMask | None:
        """A masker for a reply's output as it streams in, where that masks alike."""
        if not self.mask_secrets or self._compiled.context is not None:
            return None  # context lines are cut from the end before masking
        return StreamMask(self._redactor) if self._redactor.by_line else None

    async def mask(self, text: str) -> str:
        """``text`` from this device with its secrets masked (unless ``mask_secrets`` is off)."""
        return await self._redactor.aredact(text) if self.mask_secrets else text

    # --- internals for modes/config -----------------------------------------------

    @property
    def compiled(self) -> CompiledPlatform:
        """The platform's regexes pinned to the learned hostname."""
        return self._pinned

    @property
    def enable_secret(self) -> str | None:
        cred = self.credential
        if cred is not None and cred.enable_secret is not None:
            return cred.enable_secret
        return self._login_enable

    def _repin(self, host: str) -> None:
        """Pin prompts to a new hostname (the device has shown it)."""
        self.hostname = host
        self._pinned = pin(self._compiled, host)
        self._prompt = (self._pinned.any_prompt,)

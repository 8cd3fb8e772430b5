"""``DeviceSession``: the I/O core of ``Device`` - login, prompt learning, command exchange.

A command is written, then the channel reads until the prompt pinned to the
hostname learned at login (or an ``expect`` pattern). After a timeout or a
lost connection the session is ``dirty``; the next command reopens it when
``auto_reconnect`` is on, so no command ever receives another command's output.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import TracebackType
from typing import Self

from netfleet.channel import Channel, FramingError, ReadTimeout
from netfleet.core.errors import (
    CommandTimeout,
    ConnectionLost,
    DeviceError,
    PrivilegeError,
    PromptNotFound,
    SessionLimitReached,
)
from netfleet.core.models import Credential, DeviceSpec
from netfleet.core.secretref import resolve_login
from netfleet.device import modes
from netfleet.device.sessionlog import SessionLog
from netfleet.platforms import CompiledPlatform, PlatformSpec, compiled
from netfleet.platforms.secrets import redactor_for
from netfleet.transport import (
    ConnectOptions,
    ConnectTimings,
    ShellTransport,
    is_busy_text,
    open_shell,
)


@dataclass(frozen=True, slots=True)
class Reply:
    """What the device sent back for one line: ``output`` (echo and prompt removed),
    the ``match`` that ended the read, whether that was the prompt (``at_prompt``) or a
    question (then ``question`` is its text)."""

    output: str
    match: re.Match[str]
    at_prompt: bool
    question: str = ""
    raw: str | None = field(default=None, repr=False)
    """``output`` before masking, when ``keep_raw`` is on and masking changed it."""


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


def _maskable(spec: DeviceSpec, values: list[str | None]) -> list[str]:
    """The secret values to mask by value: a password equal to a login name is not
    secret (the device prints its users' names: prompts, ``whoami``, ``show users``)."""
    names = {c.username for c in spec.credentials}
    return [v for v in values if v and v not in names]


def _renamed(learned: str, name: str) -> str:
    """The prompt's host part after a rename to ``name``: an IOS-XR node prefix
    (``RP/0/RP0/CPU0:``), a Junos user (``admin@``) and an ASA context (``/ctx1``) stay
    as they were."""
    node, colon, rest = learned.rpartition(":")
    user, at, rest = rest.rpartition("@")
    _, slash, context = rest.partition("/")
    return f"{node}{colon}{user}{at}{name}{slash}{context}"


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
        self._redactor = redactor_for(
            platform.name,
            _maskable(spec, [*(v for c in spec.credentials for v in c.secrets()), enable_secret]),
        )
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
                known = [v for c in self._spec.credentials for v in c.secrets()]
                self._redactor = redactor_for(
                    self._platform.name,
                    _maskable(self._spec, [*known, *resolved, self._enable_secret]),
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
            await self._learn_prompt(self._options.timeouts.prompt)
            self.timings.prompt_ms = (loop.time() - started) * 1000.0 - self.timings.total_ms
            if self._compiled.pager is not None:
                channel.set_pager(self._compiled.pager, self._platform.pager_answer)
            await self._go_home()
            if not self.skip_on_open:
                for command in self._platform.on_open:
                    await self.send(command, timeout=self._options.timeouts.prompt)
        except BaseException:
            await self.close()
            raise
        self.timings.total_ms = (loop.time() - started) * 1000.0

    async def _go_home(self) -> None:
        """After login: up to the default level when a secret (even an empty one) is known
        and ``enable_on_open``; never down (a Linux login as root stays root)."""
        names = [lv.name for lv in self._platform.levels]
        login = names.index(self.level)
        default = names.index(self._platform.default_level)
        if login >= default:
            self.home_level = self.level
            return
        if not self.enable_on_open or self.enable_secret is None:
            self.home_level = self.level
            return
        self.home_level = self._platform.default_level
        await modes.goto(self, self.home_level)

    async def _learn_prompt(self, timeout: float) -> None:
        """Learn the prompt: the first prompt-like last line, confirmed by a probe.

        A newline is sent and its prompt must agree. If it does not, the first "prompt"
        was a banner line (a MOTD ending in ``core-sw1#``, sent before the real prompt):
        the real prompt came first, the probe's answer is still to come, and is read.
        """
        assert self._transport is not None
        m, before = await self._login_read(self._compiled.any_prompt, timeout)
        level, host = modes.level_of(self._compiled, m)
        banner = before
        assert self._channel is not None
        self._channel.write(self._platform.terminator)
        m1, before1 = await self._login_read(self._compiled.any_prompt, timeout)
        level1, host1 = modes.level_of(self._compiled, m1)
        if host1 != host or level1 != level:
            banner += m.group(0)  # the banner's last line, not a prompt
            m = m1
            level, host = level1, host1
            pinned = _pin(self._compiled, host) if host else self._compiled
            if not any(pinned.any_prompt.search(line) for line in before1.splitlines()):
                # The probe's own prompt is still to come (it did not arrive with the real one).
                m2, _ = await self._login_read(pinned.any_prompt, timeout)
                level, _ = modes.level_of(pinned, m2)
                m = m2
        self.banner = (self._transport.banner + banner).strip("\n")
        self.hostname = host
        self._pinned = _pin(self._compiled, host) if host else self._compiled
        self._prompt = (self._pinned.any_prompt,)
        self.level = level
        self.prompt = m.group(0).strip()

    async def _login_read(
        self, prompt: re.Pattern[str], timeout: float
    ) -> tuple[re.Match[str], str]:
        """Read to a prompt during login; errors say what the device printed."""
        channel = self._channel
        assert channel is not None
        try:
            _, m, before = await channel.read_until((prompt,), timeout)
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
        return m, before

    async def close(self) -> None:
        """Close the session (idempotent)."""
        self._closed = True
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
            rename = _renamed(self.hostname, rename)
            renamed = _pin(self._compiled, rename)
            prompts = (*prompts, renamed.any_prompt)
        patterns = prompts if expect is None else (*prompts, expect)
        data = text if raw or secret else text + self._platform.terminator
        echo = None if raw or secret else text
        channel.write(data)
        try:
            index, m, body = await channel.read_until(
                patterns, timeout, tail_only=expect is None, echo=echo
            )
        except ReadTimeout as exc:
            self._dirty = True
            seen = exc.text.strip()[-80:]
            raise CommandTimeout(
                f"{label!r}: no prompt within {timeout:g}s"
                + (f"; last text: {seen!r}" if seen else ""),
                device=self.name,
            ) from None
        except FramingError as exc:
            self._dirty = True
            raise FramingError(exc.reason, device=self.name, text=exc.text) from None
        except ConnectionLost as exc:
            self._dirty = True
            raise ConnectionLost(f"{label!r}: {exc.reason}", device=self.name) from None
        except BaseException:
            self._dirty = True  # cancelled: the device may still print this command's output
            raise
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
        output = body[:-1] if body.endswith("\n") else body
        output = self._compiled.strip_context(output)
        masked = await self.mask(output)
        unmasked = output if self.keep_raw and masked != output else None
        return Reply(masked, m, at_prompt, "" if at_prompt else m.group(0), raw=unmasked)

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
        self._pinned = _pin(self._compiled, host)
        self._prompt = (self._pinned.any_prompt,)

"""``Device``: one SSH session to one network device (async).

Errors: a command the device *rejects* (its output matches one of the
platform's error patterns) is returned as a ``CommandResult`` with
``ok=False``, ``error`` = the device's message and ``error_kind="command_error"``
(pass ``raise_on_error=True`` to get a ``CommandError`` instead). Session-level
failures (``CommandTimeout``, ``ConnectionLost``) are raised by
``send_command``; ``send_commands`` turns them into per-command results.

Out-of-step guard: after a timeout the device may still print that command's
output, so the session is marked ``dirty``; the next command on a dirty
session first reopens it (``auto_reconnect=True``, the default) or raises
``ConnectionLost``. A pool should discard dirty sessions instead.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

from netfleet.channel import Channel, ReadTimeout, strip_echo
from netfleet.core.errors import (
    CommandError,
    CommandTimeout,
    ConnectionLost,
    DeviceError,
    NetfleetError,
    PromptNotFound,
    SessionLimitReached,
    TemplateNotFound,
)
from netfleet.core.models import CommandResult, Credential, DeviceSpec, HostKeyPolicy, JumpHost
from netfleet.core.redact import Redactor
from netfleet.core.settings import ConnectSettings
from netfleet.device import modes
from netfleet.device.results import ConfigResult
from netfleet.device.sessionlog import SessionLog
from netfleet.platforms import CompiledPlatform, PlatformSpec, compiled, get_platform
from netfleet.transport import (
    ConnectOptions,
    ConnectTimings,
    ShellTransport,
    Timeouts,
    is_busy_text,
    open_shell,
)

DEFAULT_COMMAND_TIMEOUT = 60.0


class Device:
    """An interactive CLI session on one device; use ``async with``."""

    def __init__(
        self,
        host: str,
        *,
        platform: str | PlatformSpec,
        port: int = 22,
        username: str | None = None,
        password: str | None = None,
        enable_secret: str | None = None,
        private_key: str | None = None,
        private_key_passphrase: str | None = None,
        use_agent: bool = False,
        credentials: Sequence[Credential] | None = None,
        host_key_policy: HostKeyPolicy = "strict",
        known_hosts: str | Path | None = None,
        name: str | None = None,
        timeouts: Timeouts | None = None,
        command_timeout: float = DEFAULT_COMMAND_TIMEOUT,
        jump_host: JumpHost | None = None,
        legacy_algorithms: bool = False,
        keepalive_seconds: float = 30.0,
        session_log: str | Path | None = None,
        skip_on_open: bool = False,
        auto_reconnect: bool = True,
    ) -> None:
        self._platform = platform if isinstance(platform, PlatformSpec) else get_platform(platform)
        self._compiled: CompiledPlatform = compiled(self._platform)
        creds = tuple(credentials or ())
        if username is not None:
            creds = (
                Credential(
                    username=username,
                    password=password,
                    private_key=private_key,
                    private_key_passphrase=private_key_passphrase,
                    enable_secret=enable_secret,
                    use_agent=use_agent,
                ),
                *creds,
            )
        self.name = name or f"{host}:{port}"
        self._spec = DeviceSpec(
            name=self.name,
            host=host,
            port=port,
            platform=self._platform.name,
            credentials=creds,
            jump_host=jump_host,
            host_key_policy=host_key_policy,
            legacy_algorithms=legacy_algorithms,
        )
        self._enable_secret = enable_secret
        self._options = ConnectOptions(
            host=host,
            port=port,
            credentials=creds,
            device=self.name,
            timeouts=timeouts or Timeouts(),
            host_key_policy=host_key_policy,
            known_hosts=Path(known_hosts) if known_hosts is not None else None,
            legacy_algorithms=legacy_algorithms,
            keepalive_seconds=keepalive_seconds,
            jump_host=jump_host,
        )
        self.command_timeout = command_timeout
        self.skip_on_open = skip_on_open
        self.auto_reconnect = auto_reconnect
        self._session_log_path = Path(session_log) if session_log is not None else None
        self._log: SessionLog | None = None
        self._transport: ShellTransport | None = None
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

    @classmethod
    def from_spec(
        cls, spec: DeviceSpec, settings: ConnectSettings | None = None, **kwargs: Any
    ) -> Device:
        """A device from an inventory entry; timeouts and known_hosts from ``settings``."""
        settings = settings or ConnectSettings()
        log = None
        if settings.session_log_dir is not None:
            log = Path(settings.session_log_dir).expanduser() / f"{spec.name}.log"
        enable = next((c.enable_secret for c in spec.credentials if c.enable_secret), None)
        params: dict[str, Any] = {
            "port": spec.port,
            "platform": spec.platform,
            "credentials": spec.credentials,
            "enable_secret": enable,
            "host_key_policy": spec.host_key_policy,
            "known_hosts": settings.known_hosts,
            "name": spec.name,
            "timeouts": Timeouts.from_settings(settings),
            "jump_host": spec.jump_host,
            "legacy_algorithms": spec.legacy_algorithms,
            "keepalive_seconds": settings.keepalive_seconds,
            "session_log": log,
        }
        params.update(kwargs)
        dev = cls(spec.host, **params)
        dev._spec = spec
        return dev

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
        """The credential the session logged in with."""
        return self._transport.credential if self._transport is not None else None

    # --- lifecycle -------------------------------------------------------------------

    async def __aenter__(self) -> Device:
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
        if self._session_log_path is not None and self._log is None:
            secrets = [s for c in self._spec.credentials for s in c.secrets()]
            self._log = SessionLog(
                self._session_log_path, Redactor([*secrets, self._enable_secret])
            )
            self._log.mark(f"open {self.name} ({self._spec.address})")
        channel = Channel(device=self.name, on_data=self._log.received if self._log else None)
        self._channel = channel
        self.timings = ConnectTimings()
        self._transport = await open_shell(self._options, channel, timings=self.timings)
        channel.attach(self._transport)
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
        self._pinned = self._compiled.pinned(host) if host else self._compiled
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

    async def _read(
        self, patterns: Sequence[re.Pattern[str]], timeout: float, what: str, *, tail: bool = True
    ) -> tuple[int, re.Match[str], str]:
        assert self._channel is not None
        try:
            return await self._channel.read_until(patterns, timeout, tail_only=tail)
        except ReadTimeout:
            self._dirty = True
            raise CommandTimeout(
                f"{what!r}: no prompt within {timeout:g}s", device=self.name
            ) from None
        except ConnectionLost:
            self._dirty = True
            raise

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
        channel.write(data)
        patterns = self._prompt if expect is None else (*self._prompt, expect)
        index, m, text = await self._read(
            patterns, timeout, "<secret>" if secret else label or data.strip(), tail=expect is None
        )
        at_prompt = index == 0
        if at_prompt:
            self.level, _ = modes.level_of(self._pinned, m)
            self.prompt = m.group(0).strip()
        return at_prompt, m, text

    async def _run(
        self, command: str, timeout: float, *, expect: re.Pattern[str] | None = None
    ) -> tuple[str, re.Match[str]]:
        """Send one line and read up to the prompt (or ``expect``); returns (output, match)."""
        channel = await self._ready()
        channel.drain()
        at_prompt, m, text = await self.exchange(
            command + self._platform.terminator, timeout, expect=expect, label=command
        )
        self.prompt_matched_last = at_prompt
        self.last_question = "" if at_prompt else m.group(0)
        self.commands_run += 1
        output = strip_echo(text, command)
        if output.endswith("\n"):
            output = output[:-1]
        return output, m

    async def send_command(
        self,
        command: str,
        *,
        expect: str | None = None,
        timeout: float | None = None,
        parse: str | None = None,
        raise_on_error: bool = False,
    ) -> CommandResult:
        """Run one command and return what it printed (echo and prompt removed).

        ``expect`` is a regex that ends the read instead of the prompt (for
        interactive questions). ``parse="textfsm"`` fills ``parsed``; a parse
        failure (e.g. ``TemplateNotFound``) keeps ``ok=True`` and the raw output,
        sets ``parsed=None`` and reports the problem in ``error``/``error_kind``.
        """
        started_at = time.time()
        t0 = time.perf_counter()
        expect_re = re.compile(expect, re.MULTILINE) if expect else None
        output, _ = await self._run(command, timeout or self.command_timeout, expect=expect_re)
        error = self._pinned.find_error(output)
        result = CommandResult(
            command=command,
            output=output,
            ok=error is None,
            error=error,
            error_kind="command_error" if error is not None else None,
            started_at=started_at,
        )
        if parse is not None and error is None:
            self._parse(result, parse)
        result.duration_ms = (time.perf_counter() - t0) * 1000.0
        if raise_on_error and error is not None:
            raise CommandError(f"{command!r} rejected: {error}", device=self.name)
        return result

    def _parse(self, result: CommandResult, parser: str) -> None:
        from netfleet.platforms.parsing import parse_textfsm

        if parser != "textfsm":
            result.error = f"unknown parser {parser!r} (known: textfsm)"
            result.error_kind = "parse_error"
            return
        try:
            result.parsed = parse_textfsm(
                self._platform.name, result.command, result.output, device=self.name
            )
        except TemplateNotFound as exc:
            result.error, result.error_kind = exc.message, exc.kind
        except NetfleetError as exc:
            result.error, result.error_kind = exc.message, "parse_error"

    async def send_commands(
        self,
        commands: Iterable[str],
        *,
        failure_strategy: str = "continue",
        failure_n: int = 1,
        timeout: float | None = None,
        parse: str | None = None,
    ) -> list[CommandResult]:
        """Run commands in order; one result per command.

        ``continue`` runs them all; ``abort_first`` stops after the first failure;
        ``abort_after_n`` after ``failure_n`` failures. Commands not run are
        reported with ``ok=False`` and ``error_kind="not_run"``. A lost
        connection ends the list (the rest are not run).
        """
        return await modes.run_commands(
            self,
            list(commands),
            failure_strategy=failure_strategy,
            failure_n=failure_n,
            timeout=timeout,
            parse=parse,
        )

    # --- modes and configuration ----------------------------------------------------

    async def enable(self) -> None:
        """Enter the privileged level (answering the enable password); PrivilegeError if refused."""
        await modes.goto(self, modes.privileged_level(self._platform))

    async def reset(self) -> None:
        """Return to the platform's default level (e.g. ``end`` out of configuration mode)."""
        await modes.goto(self, self._platform.default_level)

    async def send_config(
        self,
        lines: Iterable[str] | str,
        *,
        save: bool = False,
        commit: bool = True,
        dry_run: bool = False,
        stop_on_error: bool = True,
        timeout: float | None = None,
    ) -> ConfigResult:
        """Push configuration lines; see ``netfleet.device.config`` for the steps."""
        from netfleet.device.config import push_config

        if isinstance(lines, str):
            lines = lines.splitlines()
        return await push_config(
            self,
            [ln for ln in lines if ln.strip()],
            save=save,
            commit=commit,
            dry_run=dry_run,
            stop_on_error=stop_on_error,
            timeout=timeout or self.command_timeout,
        )

    async def save_config(self, *, timeout: float | None = None) -> CommandResult:
        """Save the running configuration (answering the platform's questions)."""
        from netfleet.device.config import save_config

        return await save_config(self, timeout=timeout or self.command_timeout)

    async def is_alive(self, timeout: float = 5.0) -> bool:
        """Cheap liveness probe: the alive command (or a newline) gets a prompt back."""
        if self.closed or self.dirty:
            return False
        try:
            await self._run(self._platform.alive_command, timeout)
        except DeviceError:
            return False
        return True

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
        return self._enable_secret

    def relearn_prompt_pattern(self, host: str) -> None:
        """Pin prompts to a new hostname (after a ``hostname`` change)."""
        self.hostname = host
        self._pinned = self._compiled.pinned(host)
        self._prompt = (self._pinned.any_prompt,)

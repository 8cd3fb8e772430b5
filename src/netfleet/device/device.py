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

import re
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from netfleet.core.errors import (
    CommandError,
    DeviceError,
    NetfleetError,
    TemplateNotFound,
    UnknownPlatform,
)
from netfleet.core.models import CommandResult, Credential, DeviceSpec, HostKeyPolicy, JumpHost
from netfleet.core.names import child_path
from netfleet.core.settings import ConnectSettings
from netfleet.device import modes
from netfleet.device.results import ConfigResult
from netfleet.device.session import DeviceSession
from netfleet.platforms import PlatformSpec, get_platform
from netfleet.transport import (
    ConnectOptions,
    Timeouts,
)

DEFAULT_COMMAND_TIMEOUT = 60.0


class Device(DeviceSession):
    """An interactive CLI session on one device; use ``async with``.

    ``platform`` is a registered platform name (or a ``PlatformSpec``). Credentials:
    ``username``/``password``/``private_key``/``use_agent`` make the first credential,
    ``credentials`` are tried after it, in order, each only after an authentication
    failure. ``host_key_policy``: ``strict`` (``known_hosts`` must have the key),
    ``accept-new`` (pin on first use), ``off``. ``timeouts`` sets the TCP,
    handshake, authentication and first-prompt timeouts; ``command_timeout`` is
    the default per command. ``skip_on_open`` skips the platform's on-open
    commands (paging then stays on and the pager is answered). Every open and
    reconnect goes up to the platform's default level, entering ``enable`` with
    ``enable_secret`` (``""`` is a blank secret, ``None`` none); ``enable=False``
    stays at the login level. ``auto_reconnect`` reopens a session that a timeout,
    a cancelled command or a lost connection left unusable, before the next command.
    """

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
        enable: bool = True,
        ssh_config: str | Path | None = "~/.ssh/config",
    ) -> None:
        label = name or f"{host}:{port}"
        try:
            spec = platform if isinstance(platform, PlatformSpec) else get_platform(platform)
        except UnknownPlatform as exc:
            raise UnknownPlatform(f"{label}: {exc.message}") from None
        platform_spec = spec
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
        dspec = DeviceSpec(
            name=label,
            host=host,
            port=port,
            platform=platform_spec.name,
            credentials=creds,
            jump_host=jump_host,
            host_key_policy=host_key_policy,
            legacy_algorithms=legacy_algorithms,
        )
        options = ConnectOptions(
            host=host,
            port=port,
            credentials=creds,
            device=label,
            timeouts=timeouts or Timeouts(),
            host_key_policy=host_key_policy,
            known_hosts=Path(known_hosts) if known_hosts is not None else None,
            legacy_algorithms=legacy_algorithms,
            keepalive_seconds=keepalive_seconds,
            jump_host=jump_host,
            ssh_config=Path(ssh_config) if ssh_config else None,
        )
        super().__init__(
            platform_spec,
            dspec,
            options,
            enable_secret=enable_secret,
            command_timeout=command_timeout,
            skip_on_open=skip_on_open,
            auto_reconnect=auto_reconnect,
            enable=enable,
            session_log=Path(session_log) if session_log is not None else None,
        )

    @classmethod
    def from_spec(
        cls, spec: DeviceSpec, settings: ConnectSettings | None = None, **kwargs: Any
    ) -> Device:
        """A device from an inventory entry; timeouts, known_hosts, keepalives, session log
        directory and (unless the entry sets ``strict`` or ``off``) the host key policy
        come from ``settings``; ``kwargs`` override any ``Device`` argument."""
        settings = settings or ConnectSettings()
        log = None
        if settings.session_log_dir is not None:
            log = child_path(Path(settings.session_log_dir).expanduser(), spec.name, ".log")
        enable = next(
            (c.enable_secret for c in spec.credentials if c.enable_secret is not None), None
        )
        params: dict[str, Any] = {
            "port": spec.port,
            "platform": spec.platform,
            "credentials": spec.credentials,
            "enable_secret": enable,
            # The inventory default ("accept-new") defers to the configured policy.
            "host_key_policy": (
                settings.host_key_policy
                if spec.host_key_policy == "accept-new"
                else spec.host_key_policy
            ),
            "known_hosts": settings.known_hosts,
            "name": spec.name,
            "timeouts": Timeouts.from_settings(settings),
            "jump_host": spec.jump_host,
            "legacy_algorithms": spec.legacy_algorithms,
            "keepalive_seconds": settings.keepalive_seconds,
            "session_log": log,
            "ssh_config": settings.ssh_config,
        }
        params.update(kwargs)
        dev = cls(spec.host, **params)
        dev._spec = spec
        return dev

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
        expect_re = re.compile(expect, re.MULTILINE) if expect else None
        return await self.command(
            command,
            timeout=timeout or self.command_timeout,
            expect=expect_re,
            parse=parse,
            raise_on_error=raise_on_error,
        )

    async def command(
        self,
        command: str,
        *,
        timeout: float,
        expect: re.Pattern[str] | None = None,
        parse: str | None = None,
        raise_on_error: bool = False,
        rename: str | None = None,
        level: str | None = None,
    ) -> CommandResult:
        """``send_command`` with a compiled ``expect``; ``rename``: the line changes the
        hostname to this (the prompt is re-pinned only if the device shows it); ``level``:
        refuse to send unless the session is at that level."""
        started_at = time.time()
        t0 = time.perf_counter()
        sent = command if expect is not None else self._pinned.frame(command)
        reply = await self.send(sent, timeout=timeout, expect=expect, rename=rename, level=level)
        output, status = (
            self._pinned.unframe(reply.output) if sent != command else (reply.output, None)
        )
        raw_output = reply.raw
        if raw_output is not None and sent != command:
            raw_output = self._pinned.unframe(raw_output)[0]
        error = self._pinned.find_error(output)
        if error is None and status:
            last = output.rstrip().rpartition("\n")[2].strip()
            error = f"exit status {status}" + (f": {last}" if last else "")
        result = CommandResult(
            command=command,
            output=output,
            ok=error is None,
            error=error,
            error_kind="command_error" if error is not None else None,
            started_at=started_at,
            raw_output=raw_output,
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
        """Return to the level the session opened at (``home_level``: the platform's default
        level, e.g. ``end`` out of configuration mode), as every open and reconnect does."""
        await modes.goto(self, self.home_level)

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
            await self.send(self._platform.alive_command, timeout=timeout)
        except DeviceError:
            return False
        return True

"""The per-session state of an IOS-like CLI, edited by command handlers through methods.

Handlers (exec, configuration, show and commit commands) receive an ``IosSession``.
They read its fields and change them only through its methods, so the engine that
dispatches commands is never imported by the modules that implement them.
"""

from __future__ import annotations

from collections.abc import Callable

from netfleet_sim.contract import Pager, Reply
from netfleet_sim.platforms.cmdtree import Ambiguous, Incomplete, Invalid
from netfleet_sim.platforms.ios_like import config as cfg
from netfleet_sim.platforms.ios_like.config import Config, Stanza
from netfleet_sim.platforms.ios_like.state import IosFlavor, IosState

Action = Callable[["IosSession", tuple[str, ...]], Reply]
"""A command handler: the session and the command's arguments."""
ExecFn = Callable[[str, int], Reply]
"""Runs an exec line (``do`` in configuration mode); supplied by the engine."""


class IosSession:
    """Mode, paging, pending question and candidate of one session on an IOS-like device."""

    def __init__(
        self, state: IosState, *, username: str, enable_secret: str, run_exec: ExecFn
    ) -> None:
        self.state = state
        self.flavor: IosFlavor = state.flavor
        self.username = username
        self._secret = enable_secret
        self._run_exec = run_exec
        self.level = "priv" if self.flavor.login_privileged else "user"
        """``user``, ``priv`` or ``config``."""
        self.context: Stanza | None = None
        self.submode = ""
        self.paging_on = True
        self.page_lines = self.flavor.pager.lines
        self.width = 80
        self.pending: Callable[[str], Reply] | None = None
        self.pending_prompt = ""
        self.pending_echo = True
        self.candidate: Config | None = None
        self.enable_tries = 0
        self.config_host_len = 0
        """Configuration prompts show at most this many hostname characters (0: all)."""
        self.failover = ""
        """Failover unit/state shown after the hostname (``pri/act``), as on an ASA pair."""
        self.volatile_config = False
        """``show running-config`` prints lines that change on every call."""
        self.truncate_config = 0
        """``show running-config`` stops after this many lines (0: whole)."""

    def set_variants(self, *, login_level: str | None, config_host_len: int, failover: str) -> None:
        """Apply the device's simulator variants (see ``netfleet_sim.faults``)."""
        if login_level is not None:
            self.level = "priv" if login_level == "privileged" else "user"
        self.config_host_len = config_host_len
        self.failover = failover

    # -- what the session shows -------------------------------------------------------------
    def prompt(self) -> str:
        """The prompt for the current mode."""
        if self.pending is not None:
            return self.pending_prompt
        host = self.state.hostname
        if self.level == "config" and self.config_host_len:
            host = host[: self.config_host_len]
        base = self.flavor.prompt_prefix + host + (f"/{self.failover}" if self.failover else "")
        if self.level == "user":
            mark = base + ">"
        elif self.level == "priv":
            mark = base + "#"
        elif self.context is None:
            mark = base + "(config)#"
        else:
            mark = f"{base}(config-{self.submode})#"
        return mark + (" " if self.flavor.prompt_space else "")

    def paging(self) -> Pager | None:
        """The pager while paging is enabled."""
        if not self.paging_on:
            return None
        pager = self.flavor.pager
        if self.page_lines == pager.lines:
            return pager
        return Pager(pager.prompt, self.page_lines, pager.erase)

    def error(self, parsed: Invalid | Ambiguous | Incomplete, line: str, extra: int = 0) -> Reply:
        """The platform's message for a command it cannot run."""
        tail = "\n" if self.flavor.error_blank_line else ""
        if isinstance(parsed, Incomplete):
            return Reply(self.flavor.incomplete + "\n" + tail, pageable=False)
        if isinstance(parsed, Ambiguous):
            text = self.flavor.ambiguous.format(line=line.strip())
            return Reply(text + "\n" + tail, pageable=False)
        caret = ""
        if self.flavor.caret:
            caret = " " * (len(self.prompt()) + parsed.column + extra) + "^\n"
        return Reply(caret + self.flavor.invalid + "\n" + tail, pageable=False)

    def exec_line(self, line: str, *, prefix_columns: int = 0) -> Reply:
        """Run an exec command (``do`` in configuration mode)."""
        return self._run_exec(line, prefix_columns)

    # -- questions --------------------------------------------------------------------------
    def ask(self, prompt: str, handler: Callable[[str], Reply], *, echo: bool = True) -> Reply:
        """Ask a question; ``handler`` receives the answer line."""
        self.pending = handler
        self.pending_prompt = prompt
        self.pending_echo = echo
        return Reply(pageable=False)

    def take_pending(self) -> Callable[[str], Reply] | None:
        """The handler of the question being answered (the question is then over)."""
        handler, self.pending = self.pending, None
        return handler

    # -- privilege ----------------------------------------------------------------------------
    @property
    def needs_secret(self) -> bool:
        """Whether ``enable`` asks for a password (an ASA asks even when it is blank)."""
        return bool(self._secret) or self.flavor.enable_asks_blank

    def secret_matches(self, answer: str) -> bool:
        """Whether ``answer`` is the enable secret."""
        return answer == self._secret

    def start_enable(self) -> None:
        """A new ``enable`` attempt: the password counter starts over."""
        self.enable_tries = 0

    def failed_enable(self) -> int:
        """Count one wrong password; returns the failures so far."""
        self.enable_tries += 1
        return self.enable_tries

    def set_level(self, level: str) -> None:
        """Move to exec level ``user`` or ``priv``."""
        self.level = level

    # -- terminal -----------------------------------------------------------------------------
    def set_paging(self, lines: int) -> None:
        """``terminal length``: 0 turns paging off."""
        self.paging_on = lines > 0
        if lines > 0:
            self.page_lines = lines

    def set_width(self, width: int) -> None:
        """``terminal width``."""
        self.width = width

    # -- configuration ------------------------------------------------------------------------
    def target(self) -> Config:
        """The configuration that configuration commands edit."""
        if self.candidate is not None:
            return self.candidate
        return self.state.running

    def enter_config(self) -> Reply:
        """Enter global configuration mode."""
        self.level = "config"
        self.context = None
        if self.flavor.candidate:
            self.candidate = cfg.intern_config(self.state.running)
        return Reply(self.flavor.config_banner, pageable=False)

    def leave_config(self) -> None:
        """Return to privileged exec mode."""
        self.level = "priv"
        self.context = None
        self.submode = ""
        self.candidate = None

    def enter_stanza(self, stanza: Stanza, mode: str) -> None:
        """Enter a configuration sub-mode (``interface ...`` -> ``config-if``)."""
        self.context = stanza
        self.submode = mode

    def leave_stanza(self) -> None:
        """Back to global configuration mode."""
        self.context = None
        self.submode = ""

    def restart_candidate(self, *, keep_context: bool) -> None:
        """A fresh candidate from the running configuration (after ``commit`` or ``clear``)."""
        header = self.context[0] if keep_context and self.context is not None else None
        self.candidate = cfg.intern_config(self.state.running)
        if header is None:
            self.leave_stanza()
        else:
            self.context = cfg.private(self.candidate, header)

    def config_changed(self) -> None:
        """Record that the running configuration changed (not for candidates)."""
        if self.candidate is None:
            self.state.touch()

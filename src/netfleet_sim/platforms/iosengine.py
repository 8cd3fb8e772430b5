"""The CLI session engine shared by all IOS-like platforms (IOS, XE, NX-OS, XR, ASA, EOS)."""

from __future__ import annotations

from collections.abc import Callable

from netfleet_sim.contract import Pager, Reply
from netfleet_sim.platforms import ioscfg, iosexec, iosmodes
from netfleet_sim.platforms.cmdtree import (
    Ambiguous,
    CommandTree,
    Incomplete,
    Invalid,
    Match,
)
from netfleet_sim.platforms.ioscfg import Config, Stanza
from netfleet_sim.platforms.iosstate import IosFlavor, IosState
from netfleet_sim.platforms.textfilter import apply_filter, split_filter

Action = Callable[["IosEngine", tuple[str, ...]], Reply]

_TREES: dict[tuple[str, str], CommandTree[Action]] = {}


class IosEngine:
    """One interactive session on an IOS-like device."""

    def __init__(self, state: IosState, *, username: str, enable_secret: str) -> None:
        self.state = state
        self.flavor: IosFlavor = state.flavor
        self.username = username
        self._secret = enable_secret
        self.level = "priv" if self.flavor.login_privileged else "user"
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

    # -- contract -------------------------------------------------------------------------
    def motd(self) -> str:
        """The configured ``banner motd`` text (or the platform's login text)."""
        flavor = self.flavor
        return iosmodes.motd_text(self.state.running, flavor.motd, undelimited=flavor.banner_line)

    def prompt(self) -> str:
        """The prompt for the current mode."""
        if self.pending is not None:
            return self.pending_prompt
        base = self.flavor.prompt_prefix + self.state.hostname
        if self.level == "user":
            mark = base + ">"
        elif self.level == "priv":
            mark = base + "#"
        elif self.context is None:
            mark = base + "(config)#"
        else:
            mark = f"{base}(config-{self.submode})#"
        return mark + (" " if self.flavor.prompt_space else "")

    def echo(self) -> bool:
        """False while a secret is being typed."""
        return self.pending is None or self.pending_echo

    def paging(self) -> Pager | None:
        """The pager while paging is enabled."""
        if not self.paging_on:
            return None
        pager = self.flavor.pager
        if self.page_lines == pager.lines:
            return pager
        return Pager(pager.prompt, self.page_lines, pager.erase)

    def execute(self, line: str) -> Reply:
        """Handle one input line."""
        if self.pending is not None:
            handler, self.pending = self.pending, None
            return handler(line)
        if not line.strip():
            return Reply()
        if self.level == "config":
            return iosmodes.config_line(self, line)
        return self.exec_line(line)

    # -- exec mode --------------------------------------------------------------------------
    def tree(self) -> CommandTree[Action]:
        """The exec command tree for the current privilege level."""
        key = (self.flavor.name, self.level)
        tree = _TREES.get(key)
        if tree is None:
            tree = iosexec.build_exec_tree(self.flavor, privileged=self.level != "user")
            _TREES[key] = tree
        return tree

    def exec_line(self, line: str, *, prefix_columns: int = 0) -> Reply:
        """Run an exec command (also used by ``do`` in configuration mode)."""
        command, pipe = split_filter(line)
        command = self.expand_alias(command)
        parsed = self.tree().parse(command)
        if not isinstance(parsed, Match):
            return self.error(parsed, line, prefix_columns)
        reply = parsed.handler(self, parsed.args)
        if pipe is None:
            return reply
        filtered = apply_filter(reply.output, pipe)
        if filtered is None:
            column = len(command) + prefix_columns + 1
            return self.error(Invalid(column), line, 0)
        return Reply(filtered, reply.close, reply.pageable)

    def expand_alias(self, command: str) -> str:
        """An alias in the running config (``alias exec NAME COMMAND`` on IOS): the word
        NAME, typed in full as the first word, stands for COMMAND (further words follow)."""
        words = command.split(None, 1)
        if not words:
            return command
        target = ioscfg.value(self.state.running, f"{self.flavor.alias_prefix}{words[0]} ")
        if not target:
            return command
        return target if len(words) == 1 else f"{target} {words[1]}"

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

    # -- shared helpers used by actions ----------------------------------------------------
    def ask(self, prompt: str, handler: Callable[[str], Reply], *, echo: bool = True) -> Reply:
        """Ask a question; ``handler`` receives the answer line."""
        self.pending = handler
        self.pending_prompt = prompt
        self.pending_echo = echo
        return Reply(pageable=False)

    def target(self) -> Config:
        """The configuration that configuration commands edit."""
        if self.candidate is not None:
            return self.candidate
        return self.state.running

    def leave_config(self) -> None:
        """Return to privileged exec mode."""
        self.level = "priv"
        self.context = None
        self.submode = ""
        self.candidate = None

    def enter_config(self) -> Reply:
        """Enter global configuration mode."""
        self.level = "config"
        self.context = None
        if self.flavor.candidate:
            self.candidate = ioscfg.intern_config(self.state.running)
        return Reply(self.flavor.config_banner, pageable=False)

    def config_changed(self) -> None:
        """Record that the running configuration changed (not for candidates)."""
        if self.candidate is None:
            self.state.touch()

"""The CLI session engine shared by all IOS-like platforms (IOS, XE, NX-OS, XR, ASA, EOS).

The engine dispatches input lines to command handlers; the handlers edit the
session's ``IosSession`` through its methods and never see the engine.
"""

from __future__ import annotations

from netfleet_sim.contract import Pager, Reply
from netfleet_sim.faults import Faults
from netfleet_sim.platforms.cmdtree import CommandTree, Invalid, Match
from netfleet_sim.platforms.ios_like import config, config_mode, exec_mode
from netfleet_sim.platforms.ios_like.session import Action, IosSession
from netfleet_sim.platforms.ios_like.state import IosState
from netfleet_sim.platforms.textfilter import apply_filter, split_filter

_TREES: dict[tuple[str, str], CommandTree[Action]] = {}


class IosEngine:
    """One interactive session on an IOS-like device."""

    def __init__(self, state: IosState, *, username: str, enable_secret: str) -> None:
        self.session = IosSession(
            state, username=username, enable_secret=enable_secret, run_exec=self._exec_line
        )
        self.state = state
        self.flavor = state.flavor

    def apply_faults(self, faults: Faults) -> None:
        """Device-level variants: login level, cut configuration prompts, failover prompts."""
        self.session.set_variants(
            login_level=faults.login_level,
            config_host_len=faults.config_host_len or 0,
            failover=faults.failover or "",
        )
        self.session.volatile_config = faults.volatile_config
        self.session.truncate_config = faults.truncate_config or 0

    # -- contract -------------------------------------------------------------------------
    def motd(self) -> str:
        """The configured ``banner motd`` text (or the platform's login text)."""
        flavor = self.flavor
        return config_mode.motd_text(
            self.state.running, flavor.motd, undelimited=flavor.banner_line
        )

    def prompt(self) -> str:
        """The prompt for the current mode."""
        return self.session.prompt()

    def echo(self) -> bool:
        """False while a secret is being typed."""
        session = self.session
        return session.pending is None or session.pending_echo

    def paging(self) -> Pager | None:
        """The pager while paging is enabled."""
        return self.session.paging()

    def execute(self, line: str) -> Reply:
        """Handle one input line."""
        session = self.session
        handler = session.take_pending()
        if handler is not None:
            return handler(line)
        if not line.strip():
            return Reply()
        if session.level == "config":
            return config_mode.config_line(session, line)
        return self._exec_line(line, 0)

    # -- exec mode --------------------------------------------------------------------------
    def tree(self) -> CommandTree[Action]:
        """The exec command tree for the current privilege level."""
        level = self.session.level
        key = (self.flavor.name, level)
        tree = _TREES.get(key)
        if tree is None:
            tree = exec_mode.build_exec_tree(self.flavor, privileged=level != "user")
            _TREES[key] = tree
        return tree

    def expand_alias(self, command: str) -> str:
        """An alias in the running config (``alias exec NAME COMMAND`` on IOS): the word
        NAME, typed in full as the first word, stands for COMMAND (further words follow)."""
        words = command.split(None, 1)
        if not words:
            return command
        target = config.value(self.state.running, f"{self.flavor.alias_prefix}{words[0]} ")
        if not target:
            return command
        return target if len(words) == 1 else f"{target} {words[1]}"

    def _exec_line(self, line: str, prefix_columns: int) -> Reply:
        """Run an exec command (also used by ``do`` in configuration mode)."""
        session = self.session
        command, pipe = split_filter(line)
        command = self.expand_alias(command)
        parsed = self.tree().parse(command)
        if not isinstance(parsed, Match):
            return session.error(parsed, line, prefix_columns)
        reply = parsed.handler(session, parsed.args)
        if pipe is None:
            return reply
        filtered = apply_filter(reply.output, pipe)
        if filtered is None:
            column = len(command) + prefix_columns + 1
            return session.error(Invalid(column), line, 0)
        return Reply(filtered, reply.close, reply.pageable)

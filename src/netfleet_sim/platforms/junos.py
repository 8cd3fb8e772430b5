"""Juniper Junos: device state, the CLI engine (operational and configuration mode), platform."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from netfleet_sim.contract import DeviceState, Pager, Reply
from netfleet_sim.platforms import junos_show, junoscfg
from netfleet_sim.platforms.cmdtree import (
    Ambiguous,
    Incomplete,
    Invalid,
    Match,
    resolve_keyword,
    tokenize,
)
from netfleet_sim.platforms.junos_ops import OP_TREE, Pipes, possible_completions
from netfleet_sim.platforms.junos_state import JunosState

MORE = Pager(prompt="---(more)---", lines=24, erase="\r" + " " * 12 + "\r")
CONFIG_WORDS = (
    "activate", "annotate", "commit", "copy", "deactivate", "delete", "edit", "exit", "help",
    "insert", "load", "quit", "rename", "rollback", "run", "save", "set", "show", "status",
    "top", "up", "wildcard",
)  # fmt: skip
UNCOMMITTED = "Exit with uncommitted changes? [yes,no] (yes) "


class JunosEngine:
    """One CLI session on a Junos device."""

    def __init__(self, state: JunosState, username: str) -> None:
        self.state: JunosState = state
        self.username = username
        self.mode = "op"
        self.candidate: list[str] = []
        self.path: list[str] = []
        self.paging_on = True
        self.page_lines = MORE.lines
        self.pending: Callable[[str], Reply] | None = None
        self.pending_prompt = ""

    def motd(self) -> str:
        """Printed after login."""
        return f"--- JUNOS {junos_show.VERSION} Kernel 64-bit  JNPR-12.1-{junos_show.BUILD[:20]}\n"

    def prompt(self) -> str:
        """``user@host> `` or ``user@host# ``."""
        if self.pending is not None:
            return self.pending_prompt
        mark = ">" if self.mode == "op" else "#"
        return f"{self.username}@{self.state.hostname}{mark} "

    def echo(self) -> bool:
        """Junos never asks for secrets here."""
        return True

    def paging(self) -> Pager | None:
        """The pager while ``set cli screen-length`` is not 0."""
        if not self.paging_on:
            return None
        return (
            MORE
            if self.page_lines == MORE.lines
            else Pager(MORE.prompt, self.page_lines, MORE.erase)
        )

    def execute(self, line: str) -> Reply:
        """Handle one input line."""
        if self.pending is not None:
            handler, self.pending = self.pending, None
            return handler(line)
        if self.mode == "config":
            return self._config(line)
        if not line.strip():
            return Reply()
        return self._op(line)

    def _ask(self, prompt: str, handler: Callable[[str], Reply]) -> Reply:
        self.pending = handler
        self.pending_prompt = prompt
        return Reply(pageable=False)

    def _error(self, column: int, message: str) -> Reply:
        return Reply(" " * (len(self.prompt()) + column) + "^\n" + message + "\n", pageable=False)

    def _op(self, line: str, *, prefix: int = 0) -> Reply:
        command, *rest = line.split("|")
        pipes = Pipes([p.strip() for p in rest if p.strip()])
        parsed = OP_TREE.parse(command)
        if isinstance(parsed, Invalid):
            first = parsed.column == tokenize(command)[0][0]
            message = "unknown command." if first else "syntax error, expecting <command>."
            return self._error(parsed.column + prefix, message)
        if isinstance(parsed, Ambiguous):
            word = command[parsed.column :].split()[0]
            reply = self._error(parsed.column + prefix, f"'{word}' is ambiguous.")
            return Reply(
                reply.output + possible_completions(command, parsed.column), pageable=False
            )
        if isinstance(parsed, Incomplete):
            return self._error(
                len(command.rstrip()) + 1 + prefix, "syntax error, expecting <command>."
            )
        assert isinstance(parsed, Match)
        head = parsed.words[0]
        if head == "configure":
            self.mode = "config"
            self.candidate = list(self.state.committed)
            self.path = []
            return Reply("Entering configuration mode\n\n[edit]\n", pageable=False)
        if head in ("exit", "quit", "logout"):
            return Reply(close=True, pageable=False)
        if parsed.words[:3] == ("request", "system", "reboot"):
            return self._ask("Reboot the system ? [yes,no] (no) ", self._reboot)
        text = pipes.apply(parsed.handler(self, parsed.args, pipes))
        return Reply(text, pageable=not pipes.no_more and head == "show")

    def _reboot(self, answer: str) -> Reply:
        if answer.strip().lower() in ("yes", "y"):
            self.state.reboot()
            return Reply("\n*** FINAL System shutdown message from root@R1 ***\n", close=True)
        return Reply(pageable=False)

    # -- configuration mode -----------------------------------------------------------------
    def _edit_banner(self) -> str:
        return "\n[edit" + (" " + " ".join(self.path) if self.path else "") + "]\n"

    def _config(self, line: str) -> Reply:
        reply = self._config_command(line)
        if self.mode != "config" or self.pending is not None:
            return reply
        return Reply(reply.output + self._edit_banner(), reply.close, reply.pageable)

    def _config_command(self, line: str) -> Reply:
        tokens = tokenize(line.split("|")[0])
        if not tokens:
            return Reply(pageable=False)
        column, first = tokens[0]
        verb = resolve_keyword(first, CONFIG_WORDS)
        if isinstance(verb, Ambiguous):
            return self._error(column, f"'{first}' is ambiguous.")
        if verb is None:
            return self._error(column, "unknown command.")
        rest = line[tokens[1][0] :] if len(tokens) > 1 else ""
        handler = getattr(self, f"_cfg_{verb.replace('-', '_')}", None)
        if handler is None:
            return Reply(pageable=False)
        result: Reply = handler(rest, line)
        return result

    def _cfg_set(self, rest: str, line: str) -> Reply:
        path = [*self.path, *junoscfg.words(rest)]
        if not rest.strip():
            return self._error(
                len(line.rstrip()) + 1, "syntax error, expecting <statement> or <identifier>."
            )
        if path[0] not in junoscfg.TOP_ORDER[1:]:
            return self._error(line.index(rest), "syntax error.")
        junoscfg.set_line(self.candidate, " ".join(path))
        return Reply(pageable=False)

    def _cfg_delete(self, rest: str, line: str) -> Reply:
        path = " ".join([*self.path, *junoscfg.words(rest)])
        if not path:
            self.candidate = []
            return Reply(pageable=False)
        if not junoscfg.delete_lines(self.candidate, path):
            return Reply("warning: statement not found\n", pageable=False)
        return Reply(pageable=False)

    def _cfg_edit(self, rest: str, line: str) -> Reply:
        self.path = [*self.path, *junoscfg.words(rest)]
        return Reply(pageable=False)

    def _cfg_top(self, rest: str, line: str) -> Reply:
        self.path = []
        return Reply(pageable=False)

    def _cfg_up(self, rest: str, line: str) -> Reply:
        self.path = self.path[:-1]
        return Reply(pageable=False)

    def _cfg_show(self, rest: str, line: str) -> Reply:
        parts = [p.strip() for p in line.split("|")[1:] if p.strip()]
        pipes = Pipes(parts)
        path = [*self.path, *junoscfg.words(rest.split("|")[0])]
        if pipes.compare:
            diff = junoscfg.compare(self.state.committed, self.candidate)
            return Reply(pipes.apply("".join(d + "\n" for d in diff)))
        text = junos_show.configuration_text(
            self, self.candidate, path, display_set=pipes.display_set
        )
        return Reply(pipes.apply(text), pageable=not pipes.no_more)

    def _cfg_commit(self, rest: str, line: str) -> Reply:
        words = rest.split()
        if words[:1] and "check".startswith(words[0]):
            return Reply("configuration check succeeds\n", pageable=False)
        self.state.commit(self.candidate, self.username)
        if words[:1] and "and-quit".startswith(words[0]):
            self._leave()
            return Reply("commit complete\nExiting configuration mode\n", pageable=False)
        return Reply("commit complete\n", pageable=False)

    def _cfg_rollback(self, rest: str, line: str) -> Reply:
        number = rest.split()[0] if rest.split() else "0"
        if number not in ("0", "1"):
            return Reply(f"error: rollback {number} not found\n", pageable=False)
        self.candidate = list(self.state.committed if number == "0" else self.state.previous)
        return Reply("load complete\n", pageable=False)

    def _cfg_run(self, rest: str, line: str) -> Reply:
        if not rest.strip():
            return self._error(len(line.rstrip()) + 1, "syntax error, expecting <command>.")
        return self._op(rest, prefix=line.index(rest))

    def _cfg_status(self, rest: str, line: str) -> Reply:
        return Reply(
            f"Users currently editing the configuration:\n  {self.username} terminal\n",
            pageable=False,
        )

    def _cfg_exit(self, rest: str, line: str) -> Reply:
        if self.path and not rest.strip():
            self.path = self.path[:-1]
            return Reply(pageable=False)
        if self.candidate == self.state.committed:
            self._leave()
            return Reply("Exiting configuration mode\n", pageable=False)
        self._ask(UNCOMMITTED, self._confirm_exit)
        return Reply("The configuration has been changed but not committed\n", pageable=False)

    _cfg_quit = _cfg_exit

    def _confirm_exit(self, answer: str) -> Reply:
        if answer.strip().lower() in ("", "yes", "y"):
            self._leave()
            return Reply("Exiting configuration mode\n", pageable=False)
        return Reply(self._edit_banner(), pageable=False)

    def _leave(self) -> None:
        self.mode = "op"
        self.path = []
        self.candidate = []


class JunosPlatform:
    """Juniper Junos (EX4300 switch)."""

    name = "juniper_junos"

    def ssh_banner(self, state: DeviceState) -> str:
        """``system login message``."""
        if isinstance(state, JunosState):
            for statement in state.committed:
                if statement.startswith("system login message "):
                    return statement[len("system login message ") :].strip('"') + "\n"
        return ""

    def new_state(self, hostname: str, *, index: int, config_size: int = 0) -> JunosState:
        """A factory-fresh device."""
        return JunosState(hostname, index, config_size)

    def load_state(self, data: dict[str, Any]) -> JunosState:
        """Restore a device saved with ``to_json``."""
        return JunosState.from_json(data)

    def engine(self, state: DeviceState, *, username: str, enable_secret: str) -> JunosEngine:
        """A new session on ``state``."""
        if not isinstance(state, JunosState):
            raise TypeError("juniper_junos needs a JunosState")
        return JunosEngine(state, username)

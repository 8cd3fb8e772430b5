"""Juniper Junos: device state, the CLI engine (operational and configuration mode), platform."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from netfleet_sim.contract import DeviceState, Pager, Reply
from netfleet_sim.platforms import junos_schema, junos_show, junoscfg
from netfleet_sim.platforms.cmdtree import (
    Ambiguous,
    Incomplete,
    Invalid,
    Match,
    resolve_keyword,
    tokenize,
)
from netfleet_sim.platforms.junos_db import Editor, merge_private
from netfleet_sim.platforms.junos_ops import OP_TREE, Pipes, possible_completions
from netfleet_sim.platforms.junos_state import JunosState
from netfleet_sim.platforms.junos_variant import VARIANTS, JunosVariant, legacy_show_version

MORE = Pager(prompt="---(more)---", lines=24, erase="\r" + " " * 12 + "\r")
CONFIG_WORDS = (
    "activate", "annotate", "commit", "copy", "deactivate", "delete", "edit", "exit", "help",
    "insert", "load", "quit", "rename", "rollback", "run", "save", "set", "show", "status",
    "top", "up", "wildcard",
)  # fmt: skip
UNCOMMITTED = "Exit with uncommitted changes? [yes,no] (yes) "
DISCARD = "Discard uncommitted changes? [yes,no] (yes) "
CHANGED = "The configuration has been changed but not committed\n"
DISCARDED = "warning: discarding uncommitted changes\nload complete\nExiting configuration mode\n"
MODIFYING = ("set", "delete", "rollback", "commit")


class JunosEngine:
    """One CLI session on a Junos device."""

    def __init__(
        self, state: JunosState, username: str, variant: JunosVariant = VARIANTS["ex4300"]
    ) -> None:
        self.state: JunosState = state
        self.username = username
        self.variant = variant
        self.terminal = state.db.terminal()
        self.mode = "op"
        self.db_mode = ""
        """``shared``, ``private`` or ``exclusive`` while in configuration mode."""
        self.private: list[str] = []
        self.base: list[str] = []
        """The committed configuration the private candidate was copied from."""
        self.path: list[str] = []
        self.paging_on = True
        self.page_lines = MORE.lines
        self.pending: Callable[[str], Reply] | None = None
        self.pending_prompt = ""

    @property
    def candidate(self) -> list[str]:
        """The candidate this session edits: its private copy or the shared one."""
        return self.private if self.db_mode == "private" else self.state.db.shared

    @candidate.setter
    def candidate(self, statements: list[str]) -> None:
        if self.db_mode == "private":
            self.private = statements
        else:
            self.state.db.shared = statements

    def motd(self) -> str:
        """Printed after login."""
        build = junos_show.BUILD[:20]
        return (
            f"--- JUNOS {junos_show.VERSION} Kernel 64-bit  JNPR-12.1-{build}\n" + self._chassis()
        )

    def _chassis(self) -> str:
        return f"\n{self.variant.chassis}\n" if self.variant.chassis else ""

    def prompt(self) -> str:
        """``user@host> `` or ``user@host# `` (``user@host:lsys> `` in a logical system)."""
        if self.pending is not None:
            return self.pending_prompt
        mark = ">" if self.mode == "op" else "#"
        lsys = f":{self.variant.logical_system}" if self.variant.logical_system else ""
        return f"{self.username}@{self.state.hostname}{lsys}{mark} "

    def version_text(self) -> str:
        """``show version`` of this variant."""
        if self.variant.legacy_version:
            return legacy_show_version(self.state)
        return junos_show.show_version(self.state)

    def session_ended(self) -> None:
        """The SSH session closed: leave configuration mode as Junos does on logout."""
        if self.mode == "config":
            self._leave()

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
        if self.state.expire():
            self.base, self.private = list(self.state.committed), list(self.state.committed)
        if self.pending is not None:
            handler, self.pending = self.pending, None
            return handler(line)
        if self.mode == "config":
            return self._config(line)
        reply = self._op(line) if line.strip() else Reply()
        if not self.variant.chassis or reply.close or self.pending is not None:
            return reply
        if self.mode == "config":
            return reply
        return Reply(reply.output + self._chassis(), reply.close, reply.pageable)

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
            kind = parsed.words[1] if len(parsed.words) > 1 else "shared"
            if kind == "private" and not self.variant.private:
                column = command.index(command.split()[1]) + prefix
                return self._error(column, "syntax error.")
            return self._configure(kind)
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
    def _configure(self, kind: str) -> Reply:
        """``configure [private|exclusive]`` (see ``junos_db``)."""
        db, committed = self.state.db, self.state.committed
        locked = db.locked_by_other(self.terminal)
        if kind != "shared":
            if locked:
                return Reply(locked, pageable=False)
            if db.modified(committed):
                what = (
                    "shared configuration database"
                    if kind == "private"
                    else "configuration database"
                )
                return Reply(
                    f"error: {what} modified\n" + db.editing(self.terminal), pageable=False
                )
        text = (
            "warning: uncommitted changes will be discarded on exit\n" if kind != "shared" else ""
        )
        text += "Entering configuration mode\n" + db.editing(self.terminal)
        if kind == "shared" and db.modified(committed):
            text += CHANGED
        db.editors[self.terminal] = Editor(self.username, self.terminal, kind)
        if kind == "exclusive":
            db.lock = self.terminal
        self.mode, self.db_mode, self.path = "config", kind, []
        self.base, self.private = list(committed), list(committed)
        return Reply(text + self._edit_banner(), pageable=False)

    def _edit_banner(self) -> str:
        where = "[edit" + (" " + " ".join(self.path) if self.path else "") + "]"
        editor = self.state.db.editors.get(self.terminal)
        if editor is not None:
            editor.path = list(self.path)
        return f"\n{self.variant.chassis}{where}\n"

    def _changed(self) -> bool:
        if self.db_mode == "private":
            return self.private != self.base
        return self.state.db.modified(self.state.committed)

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
        if verb in MODIFYING and self.db_mode != "private":
            locked = self.state.db.locked_by_other(self.terminal)
            if locked and not (verb == "commit" and rest.startswith("check")):
                return Reply(locked, pageable=False)
        handler = getattr(self, f"_cfg_{verb.replace('-', '_')}", None)
        if handler is None:
            return Reply(pageable=False)
        result: Reply = handler(rest, line)
        return result

    def _cfg_set(self, rest: str, line: str) -> Reply:
        if not rest.strip():
            return self._error(
                len(line.rstrip()) + 1, "syntax error, expecting <statement> or <identifier>."
            )
        path = [*self.path, *junoscfg.words(rest)]
        unknown = self._unknown(path, line)
        if unknown is not None:
            return unknown
        junoscfg.set_line(self.candidate, " ".join(path))
        return Reply(pageable=False)

    def _unknown(self, path: list[str], line: str) -> Reply | None:
        """``syntax error.`` under the first word of ``line`` that is not a statement."""
        bad = junos_schema.unknown_word(path)
        if bad is None:
            return None
        tokens = tokenize(line)  # the verb, then the words after the current level
        index = min(max(1, 1 + bad - len(self.path)), len(tokens) - 1)
        return self._error(tokens[index][0], "syntax error.")

    def _cfg_delete(self, rest: str, line: str) -> Reply:
        path = " ".join([*self.path, *junoscfg.words(rest)])
        if not path:
            self.candidate = []
            return Reply(pageable=False)
        if not junoscfg.delete_lines(self.candidate, path):
            return Reply("warning: statement not found\n", pageable=False)
        return Reply(pageable=False)

    def _cfg_edit(self, rest: str, line: str) -> Reply:
        path = [*self.path, *junoscfg.words(rest)]
        unknown = self._unknown(path, line)
        if unknown is not None:
            return unknown
        self.path = path
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
            # Only the current hierarchy level: ``top`` first for the whole diff.
            prefix = " ".join(self.path)

            def level(statements: list[str]) -> list[str]:
                return [s for s in statements if not prefix or s.startswith(prefix + " ")]

            diff = junoscfg.compare(level(self.state.committed), level(self.candidate))
            return Reply(pipes.apply("".join(d + "\n" for d in diff)))
        text = junos_show.configuration_text(
            self, self.candidate, path, display_set=pipes.display_set
        )
        return Reply(pipes.apply(text), pageable=not pipes.no_more)

    def _cfg_commit(self, rest: str, line: str) -> Reply:
        words = rest.split()
        committed = self.state.committed
        new = list(self.candidate)
        if self.db_mode == "private":
            if self.state.db.modified(committed):
                return Reply("error: shared configuration database modified\n", pageable=False)
            new = merge_private(committed, self.base, self.private)
        if words[:1] and "check".startswith(words[0]):
            self.state.confirm()
            return Reply("configuration check succeeds\n", pageable=False)
        if words[:1] and "confirmed".startswith(words[0]) and len(words[0]) >= 3:
            return self._commit_confirmed(words[1:], new)
        self.state.confirm()
        self.state.commit(new, self.username)
        self.base, self.private = list(self.state.committed), list(self.state.committed)
        if words[:1] and "and-quit".startswith(words[0]):
            self._leave()
            text = "commit complete\nExiting configuration mode\n" + self._chassis()
            return Reply(text, pageable=False)
        return Reply("commit complete\n", pageable=False)

    def _commit_confirmed(self, args: list[str], new: list[str]) -> Reply:
        """``commit confirmed [minutes]`` (1..65535, default 10); refused in a private
        candidate, as the CLI guide says."""
        if self.db_mode == "private":
            return Reply(
                "error: 'commit confirmed' is not supported in configure private mode\n",
                pageable=False,
            )
        minutes = args[0] if args else "10"
        if not minutes.isdigit() or not 1 <= int(minutes) <= 65535:
            return Reply(f"error: invalid value '{minutes}': range 1..65535\n", pageable=False)
        self.state.commit_confirmed(new, self.username, int(minutes))
        self.base, self.private = list(self.state.committed), list(self.state.committed)
        return Reply(
            f"commit confirmed will be automatically rolled back in {minutes} minutes "
            "unless confirmed\ncommit complete\n",
            pageable=False,
        )

    def _cfg_rollback(self, rest: str, line: str) -> Reply:
        number = rest.split()[0] if rest.split() else "0"
        if number not in ("0", "1"):
            return Reply(f"error: rollback {number} not found\n", pageable=False)
        # In a private candidate this discards only this session's changes.
        self.candidate = list(self.state.committed if number == "0" else self.state.previous)
        self.base = list(self.state.committed)
        return Reply("load complete\n", pageable=False)

    def _cfg_run(self, rest: str, line: str) -> Reply:
        if not rest.strip():
            return self._error(len(line.rstrip()) + 1, "syntax error, expecting <command>.")
        return self._op(rest, prefix=line.index(rest))

    def _cfg_status(self, rest: str, line: str) -> Reply:
        editors = self.state.db.editors.values()
        text = "Users currently editing the configuration:\n"
        return Reply(text + "".join(e.describe() for e in editors), pageable=False)

    def _cfg_exit(self, rest: str, line: str) -> Reply:
        if self.path and not rest.strip():
            self.path = self.path[:-1]
            return Reply(pageable=False)
        if not self._changed():
            self._leave()
            return Reply("Exiting configuration mode\n" + self._chassis(), pageable=False)
        if self.db_mode == "shared":
            # The shared candidate keeps the changes for the next ``commit``.
            self._ask(UNCOMMITTED, self._confirm_exit)
            return Reply(CHANGED, pageable=False)
        self._ask(DISCARD, self._confirm_exit)
        if self.db_mode == "exclusive":
            warning = "warning: Auto rollback on exiting 'configure exclusive'\n"
            return Reply(CHANGED + warning, pageable=False)
        return Reply(CHANGED, pageable=False)

    _cfg_quit = _cfg_exit

    def _confirm_exit(self, answer: str) -> Reply:
        if answer.strip().lower() in ("", "yes", "y"):
            discarding = self.db_mode != "shared"
            self._leave()
            text = DISCARDED if discarding else "Exiting configuration mode\n"
            return Reply(text + self._chassis(), pageable=False)
        return Reply(self._edit_banner(), pageable=False)

    def _leave(self) -> None:
        self.state.db.leave(self.terminal, self.state.committed)
        self.mode, self.db_mode, self.path = "op", "", []
        self.private, self.base = [], []


class JunosPlatform:
    """Juniper Junos (an EX4300 switch, or another ``JunosVariant``)."""

    name = "juniper_junos"

    def __init__(self, variant: JunosVariant = VARIANTS["ex4300"]) -> None:
        self.variant = variant

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
        return JunosEngine(state, username, self.variant)

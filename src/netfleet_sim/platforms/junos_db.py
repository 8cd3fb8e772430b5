"""The Junos configuration databases as the CLI documents them.

* ``configure`` edits the *shared* candidate: every user in plain configuration mode sees
  and commits everyone's changes; leaving with uncommitted changes keeps them there.
* ``configure private`` edits a private copy of the committed configuration, refused while
  the shared candidate has uncommitted changes; ``commit`` merges only the private changes;
  ``rollback 0`` discards only them; leaving (or disconnecting) discards them.
* ``configure exclusive`` locks the shared candidate: others can enter configuration mode
  but not change or commit it; leaving (or disconnecting) rolls uncommitted changes back.

Entering configuration mode lists the other users editing the configuration.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field

from netfleet_sim.platforms import junoscfg


@dataclass
class Editor:
    """One session in configuration mode."""

    user: str
    terminal: int
    mode: str
    """``shared``, ``private`` or ``exclusive``."""
    since: float = field(default_factory=time.time)
    path: list[str] = field(default_factory=list)

    def describe(self) -> str:
        since = dt.datetime.fromtimestamp(self.since, dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        where = "[edit" + (" " + " ".join(self.path) if self.path else "") + "]"
        mode = f"{self.mode} " if self.mode != "shared" else ""
        return (
            f"  {self.user} terminal p{self.terminal} (pid {1000 + self.terminal}) "
            f"on since {since}, idle 00:00:00\n      {mode}{where}\n"
        )


class ConfigDb:
    """The shared candidate, the exclusive lock and who is editing, for one device."""

    def __init__(self, committed: list[str]) -> None:
        self.shared: list[str] = list(committed)
        self.editors: dict[int, Editor] = {}
        self.lock: int | None = None
        """The terminal holding ``configure exclusive``, if any."""
        self._next_terminal = 0

    def terminal(self) -> int:
        """A new terminal number for a session."""
        self._next_terminal += 1
        return self._next_terminal

    def modified(self, committed: list[str]) -> bool:
        """The shared candidate has uncommitted changes."""
        return self.shared != committed

    def others(self, terminal: int) -> list[Editor]:
        return [e for t, e in self.editors.items() if t != terminal]

    def editing(self, terminal: int) -> str:
        """``Users currently editing the configuration:`` for the other editors ("" if none)."""
        others = self.others(terminal)
        if not others:
            return ""
        return "Users currently editing the configuration:\n" + "".join(
            e.describe() for e in others
        )

    def locked_by_other(self, terminal: int) -> str:
        """The lock error if another session holds ``configure exclusive``, else ""."""
        if self.lock is None or self.lock == terminal or self.lock not in self.editors:
            return ""
        return "error: configuration database locked by:\n" + self.editors[self.lock].describe()

    def leave(self, terminal: int, committed: list[str]) -> None:
        """A session leaves configuration mode (or disconnects)."""
        editor = self.editors.pop(terminal, None)
        if editor is not None and editor.mode == "exclusive":
            self.shared = list(committed)  # auto rollback on leaving configure exclusive
        if self.lock == terminal:
            self.lock = None

    def committed_now(self, old: list[str], new: list[str]) -> None:
        """The committed configuration changed from ``old`` to ``new``."""
        if self.shared == old:
            self.shared = list(new)


def merge_private(committed: list[str], base: list[str], private: list[str]) -> list[str]:
    """The committed configuration with a private candidate's own changes merged in."""
    removed = [s for s in base if s not in set(private)]
    added = [s for s in private if s not in set(base)]
    merged = [s for s in committed if s not in set(removed)]
    for statement in added:
        junoscfg.set_line(merged, statement)
    return merged

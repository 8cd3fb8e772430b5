"""Candidate configuration handling (IOS-XR style ``commit``/``abort``/``end``)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from netfleet_sim.contract import Reply
from netfleet_sim.platforms.ios_like import config as cfg
from netfleet_sim.platforms.ios_like.config import Config

if TYPE_CHECKING:
    from netfleet_sim.platforms.ios_like.session import IosSession

UNCOMMITTED = "Uncommitted changes found, commit them before exiting(yes/no/cancel)? [cancel]:"


def diff_lines(running: Config, candidate: Config) -> list[str]:
    """The candidate's changes as configuration lines (``no ...`` for removals)."""
    old = {s[0]: s for s in running}
    new = {s[0]: s for s in candidate}
    out: list[str] = []
    for stanza in candidate:
        before = old.get(stanza[0])
        if before == stanza:
            continue
        out.append(stanza[0])
        kept = set(before[1:]) if before else set()
        out.extend(" " + c for c in stanza[1:] if c not in kept)
        if before:
            out.extend(" no " + c for c in before[1:] if c not in stanza[1:])
        if len(stanza) > 1 or stanza[0].startswith("interface "):
            out.append("!")
    replaced = {cfg.identity(s[0]) for s in candidate if len(s) == 1}
    out.extend(
        "no " + s[0]
        for s in running
        if s[0] not in new and not (len(s) == 1 and cfg.identity(s[0]) in replaced)
    )
    return out


def diff_markers(running: Config, candidate: Config) -> list[str]:
    """The changes in ``+``/``-`` notation (``show commit changes diff``)."""
    old = {s[0]: s for s in running}
    new = {s[0]: s for s in candidate}
    out: list[str] = []
    for stanza in candidate:
        before = old.get(stanza[0])
        if before == stanza:
            continue
        mark = "   " if before else "+  "
        out.append(mark + stanza[0])
        kept = before[1:] if before else []
        out.extend("+   " + c for c in stanza[1:] if c not in kept)
        out.extend("-   " + c for c in kept if c not in stanza[1:])
    out.extend("-  " + s[0] for s in running if s[0] not in new)
    return out


def pending_changes(eng: IosSession) -> bool:
    """Whether the session's candidate differs from the running configuration."""
    return eng.candidate is not None and eng.candidate != eng.state.running


def commit(eng: IosSession, args: tuple[str, ...] = ()) -> Reply:
    """Apply the candidate to the running (and saved) configuration. ``commit confirmed
    [seconds | minutes N]`` (30..65535 s, default 600) reverts unless a ``commit``
    follows in time; that ``commit`` confirms even with no new changes."""
    if eng.candidate is None:
        return Reply(pageable=False)
    trial = None
    if args and "confirmed".startswith(args[0]) and len(args[0]) >= 4:
        trial = _trial_seconds(args[1:])
        if trial is None:
            return Reply("% Invalid input detected at '^' marker.\n", pageable=False)
    elif eng.state.pending_confirm is not None and not pending_changes(eng):
        eng.state.pending_confirm = None  # confirmed
        return Reply(pageable=False)
    if not pending_changes(eng):
        return Reply("% No configuration changes to commit.\n", pageable=False)
    restore = eng.state.pending_confirm[1] if eng.state.pending_confirm else eng.state.running
    eng.state.pending_confirm = None
    eng.state.commit(eng.candidate)
    if trial is not None:
        eng.state.pending_confirm = (time.time() + trial, cfg.intern_config(restore))
    eng.restart_candidate(keep_context=True)
    return Reply(pageable=False)


def _trial_seconds(words: tuple[str, ...]) -> float | None:
    if not words:
        return 600.0
    if words[0] == "minutes" and len(words) > 1 and words[1].isdigit():
        minutes = int(words[1])
        return minutes * 60.0 if 1 <= minutes <= 1092 else None
    if words[0].isdigit() and 30 <= int(words[0]) <= 65535:
        return float(words[0])
    return None


def clear(eng: IosSession) -> Reply:
    """``clear``: discard the uncommitted changes; stay in (global) configuration mode."""
    eng.restart_candidate(keep_context=False)
    return Reply(pageable=False)


def commit_action(eng: IosSession, args: tuple[str, ...]) -> Reply:
    """``commit`` typed as an exec command (outside configuration mode)."""
    return commit(eng)


def leave(eng: IosSession) -> Reply:
    """``end`` (or ``exit`` at the top): ask about uncommitted changes first."""
    if not pending_changes(eng):
        eng.leave_config()
        return Reply(pageable=False)

    def answer(line: str) -> Reply:
        choice = line.strip().lower()
        if choice in ("yes", "y"):
            commit(eng)
            eng.leave_config()
        elif choice in ("no", "n"):
            eng.leave_config()
        elif choice not in ("", "cancel", "c"):
            return eng.ask(UNCOMMITTED, answer)
        return Reply(pageable=False)

    return eng.ask(UNCOMMITTED, answer)

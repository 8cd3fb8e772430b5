"""Exec-mode commands of the IOS-like engine (enable, terminal, save, reload, show)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from netfleet_sim.contract import Reply
from netfleet_sim.platforms.cmdtree import CommandTree, Incomplete, Invalid
from netfleet_sim.platforms.ios_like import rollback, xr_commit
from netfleet_sim.platforms.ios_like.state import IosFlavor

if TYPE_CHECKING:
    from netfleet_sim.platforms.ios_like.session import Action, IosSession


def _enable(eng: IosSession, args: tuple[str, ...]) -> Reply:
    if eng.level != "user" or not eng.needs_secret:
        eng.set_level("priv" if eng.level == "user" else eng.level)
        return Reply(pageable=False)
    eng.start_enable()
    return eng.ask("Password: ", lambda answer: _check_secret(eng, answer), echo=False)


def _check_secret(eng: IosSession, answer: str) -> Reply:
    if eng.secret_matches(answer):
        eng.set_level("priv")
        return Reply(pageable=False)
    if eng.failed_enable() < eng.flavor.enable_attempts:
        return eng.ask("Password: ", lambda again: _check_secret(eng, again), echo=False)
    return Reply(eng.flavor.bad_secret + "\n", pageable=False)


def _disable(eng: IosSession, args: tuple[str, ...]) -> Reply:
    eng.set_level("user")
    return Reply(pageable=False)


def _exit(eng: IosSession, args: tuple[str, ...]) -> Reply:
    return Reply(close=True, pageable=False)


def _configure(eng: IosSession, args: tuple[str, ...]) -> Reply:
    return eng.enter_config()


def _configure_ask(eng: IosSession, args: tuple[str, ...]) -> Reply:
    def answer(line: str) -> Reply:
        choice = line.strip().lower() or "terminal"
        if "terminal".startswith(choice):
            return eng.enter_config()
        return Reply('?Must be "terminal", "memory" or "network"\n', pageable=False)

    return eng.ask("Configuring from terminal, memory, or network [terminal]? ", answer)


def _term_length(eng: IosSession, args: tuple[str, ...]) -> Reply:
    if not args or not args[-1].isdigit() or int(args[-1]) > 512:
        return eng.error(Incomplete() if not args else Invalid(len("terminal length ")), "")
    lines = int(args[-1])
    eng.set_paging(lines)
    text = eng.flavor.replies.get("length" if lines else "length0", "")
    return Reply(text.format(n=lines), pageable=False)


def _term_width(eng: IosSession, args: tuple[str, ...]) -> Reply:
    if not args or not args[-1].isdigit() or int(args[-1]) > 32767:
        return eng.error(Invalid(len("terminal width ")), "")
    eng.set_width(int(args[-1]))
    return Reply(eng.flavor.replies.get("width", "").format(n=eng.width), pageable=False)


def _noop(eng: IosSession, args: tuple[str, ...]) -> Reply:
    return Reply(pageable=False)


def _save(eng: IosSession, args: tuple[str, ...]) -> Reply:
    eng.state.save()
    return Reply(eng.flavor.save_output, pageable=False)


def _copy_run_start(eng: IosSession, args: tuple[str, ...]) -> Reply:
    if not eng.flavor.copy_question:
        eng.state.save()
        return Reply(eng.flavor.copy_output, pageable=False)

    def answer(line: str) -> Reply:
        if line.strip() not in ("", "startup-config"):
            return Reply("%Error opening " + line.strip() + " (Permission denied)\n")
        eng.state.save()
        return Reply(eng.flavor.copy_output, pageable=False)

    return eng.ask(eng.flavor.copy_question, answer)


def _reload(eng: IosSession, args: tuple[str, ...]) -> Reply:
    question = eng.flavor.reload_question

    def confirm(line: str) -> Reply:
        if line.strip().lower() in ("", "y", "yes", "confirm"):
            eng.state.reboot()
            return Reply(close=True, pageable=False)
        return Reply(pageable=False)

    def save_first(line: str) -> Reply:
        answer = line.strip().lower()
        if answer in ("y", "yes"):
            eng.state.save()
            eng.ask(question, confirm)
            return Reply(eng.flavor.save_output, pageable=False)
        if answer in ("n", "no"):
            return eng.ask(question, confirm)
        return Reply(pageable=False)

    modified = eng.flavor.copy_save and eng.state.running != eng.state.startup_config()
    if modified:
        return eng.ask("System configuration has been modified. Save? [yes/no]: ", save_first)
    return eng.ask(question, confirm)


def _ping(eng: IosSession, args: tuple[str, ...]) -> Reply:
    target = args[0].split()[0] if args else ""
    return Reply(
        "Type escape sequence to abort.\n"
        f"Sending 5, 100-byte ICMP Echos to {target}, timeout is 2 seconds:\n"
        "!!!!!\n"
        "Success rate is 100 percent (5/5), round-trip min/avg/max = 1/1/2 ms\n",
        pageable=False,
    )


def _ssh(eng: IosSession, args: tuple[str, ...]) -> Reply:
    return Reply("% Connection timed out; remote host not responding\n", pageable=False)


def _show(fn: Callable[[IosSession, tuple[str, ...]], str]) -> Action:
    def run(eng: IosSession, args: tuple[str, ...]) -> Reply:
        return Reply(fn(eng, args))

    return run


ACTIONS: dict[str, Action] = {
    "enable": _enable,
    "disable": _disable,
    "exit": _exit,
    "configure": _configure,
    "configure_ask": _configure_ask,
    "term_length": _term_length,
    "term_width": _term_width,
    "noop": _noop,
    "save": _save,
    "copy_run_start": _copy_run_start,
    "reload": _reload,
    "ping": _ping,
    "ssh": _ssh,
    "commit": xr_commit.commit_action,
    **rollback.ACTIONS,
}

_USER_EXEC = {
    "enable": "enable",
    "enable <arg>": "enable",
    "exit": "exit",
    "logout": "exit",
    "quit": "exit",
    "terminal width <arg>": "term_width",
    "terminal monitor": "noop",
    "ping <rest>": "ping",
    "ssh <rest>": "ssh",
    "telnet <rest>": "ssh",
}
_PRIV_EXEC = {
    "disable": "disable",
    "configure": "configure_ask",
    "configure terminal": "configure",
    "write": "save",
    "write memory": "save",
    "copy running-config startup-config": "copy_run_start",
    "reload": "reload",
    "clear counters": "noop",
}


def build_exec_tree(flavor: IosFlavor, *, privileged: bool) -> CommandTree[Action]:
    """The exec commands of ``flavor`` at one privilege level."""
    tree: CommandTree[Action] = CommandTree()
    phrases = dict(_USER_EXEC)
    for phrase in flavor.paging_off:
        phrases[phrase] = "term_length"
    if privileged:
        phrases.update(_PRIV_EXEC)
        if not flavor.write_memory:
            del phrases["write"], phrases["write memory"]
        if not flavor.copy_save:
            del phrases["copy running-config startup-config"]
        if flavor.login_privileged:
            del phrases["disable"]
    phrases.update(flavor.extra_exec)
    if privileged:
        phrases.update(flavor.privileged_exec)
    for phrase, action in phrases.items():
        if action:
            tree.add(phrase, ACTIONS[action])
    for phrase, fn in flavor.shows.items():
        if privileged or phrase in flavor.user_shows:
            tree.add(f"show {phrase}", _show(fn))
    if privileged and flavor.write_memory:
        tree.add("write terminal", _show(flavor.shows["running-config"]))
    return tree

"""Configuration snapshots on the device and replacing the running configuration.

As the vendors document them:

* IOS / IOS-XE: ``copy running-config flash:NAME`` (asks the destination filename, and
  whether to overwrite an existing file), then ``configure replace flash:NAME [force]``
  (without ``force`` it asks first) prints ``Total number of passes: 1`` and
  ``Rollback Done``.
* EOS: the same two commands; ``copy`` prints ``Copy completed successfully.`` and
  ``configure replace`` prints nothing.
* NX-OS: ``checkpoint NAME``, ``rollback running-config checkpoint NAME`` (which reports
  its patch steps and ``Rollback completed successfully.``) and ``no checkpoint NAME``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from netfleet_sim.contract import Reply
from netfleet_sim.platforms.ios_like import config as cfg

if TYPE_CHECKING:
    from netfleet_sim.platforms.ios_like.session import Action, IosSession

REPLACE_QUESTION = (
    "This will apply all necessary additions and deletions\n"
    "to replace the current running configuration with the\n"
    "contents of the specified configuration file, which is\n"
    "assumed to be a complete configuration, not a partial\n"
    "configuration. Enter Y if you are sure you want to proceed. ? [no]: "
)
NXOS_ROLLBACK = (
    "Note: Applying config parallelly may fail Rollback verification\n"
    "Collecting Running-Config\n"
    "#Generating Rollback Patch\n"
    "Executing Rollback Patch\n"
    "#Generating Running-config for verification\n"
    "#Generating Patch for verification\n"
    "Rollback completed successfully.\n"
)


def _is_eos(eng: IosSession) -> bool:
    return eng.flavor.name == "arista_eos"


def _size(config: cfg.Config) -> int:
    return sum(len(line) + 1 for stanza in config for line in stanza)


def _store(eng: IosSession, name: str) -> Reply:
    eng.state.files[name] = cfg.intern_config(eng.state.running)
    if _is_eos(eng):
        return Reply("Copy completed successfully.\n", pageable=False)
    n = _size(eng.state.running)
    return Reply(f"{n} bytes copied in 0.120 secs ({n * 8} bytes/sec)\n", pageable=False)


def copy_running(eng: IosSession, args: tuple[str, ...]) -> Reply:
    """``copy running-config DEST`` for a file on flash (``startup-config`` elsewhere)."""
    dest = args[0] if args else ""
    if not dest.startswith(("flash:", "bootflash:")) or dest.endswith(":"):
        return Reply(f"%Error opening {dest} (Invalid argument)\n", pageable=False)
    if _is_eos(eng):
        return _store(eng, dest)
    default = dest.split(":", 1)[1]

    def filename(answer: str) -> Reply:
        name = dest.split(":", 1)[0] + ":" + (answer.strip() or default)
        if name in eng.state.files:
            return eng.ask(
                "%Warning:There is a file already existing with this name\n"
                "Do you want to over write? [confirm]",
                lambda yes: (
                    _store(eng, name)
                    if yes.strip().lower() in ("", "y", "yes")
                    else Reply("%Error: copy aborted\n", pageable=False)
                ),
            )
        return _store(eng, name)

    return eng.ask(f"Destination filename [{default}]? ", filename)


def _replace(eng: IosSession, name: str) -> Reply:
    eng.state.running = cfg.share_config(eng.state.files[name])
    eng.state.touch()
    if _is_eos(eng):
        return Reply(pageable=False)
    return Reply("Total number of passes: 1\nRollback Done\n\n", pageable=False)


def configure_replace(eng: IosSession, args: tuple[str, ...]) -> Reply:
    """``configure replace URL [force]``."""
    words = " ".join(args).split()
    if not words:
        return Reply("% Incomplete command.\n", pageable=False)
    name, force = words[0], "force" in words[1:]
    if name not in eng.state.files:
        return Reply(f"%Error opening {name} (File not found)\n", pageable=False)
    if force or _is_eos(eng):
        return _replace(eng, name)

    def answer(line: str) -> Reply:
        if line.strip().lower() in ("y", "yes"):
            return _replace(eng, name)
        return Reply(pageable=False)

    return eng.ask(REPLACE_QUESTION, answer)


def checkpoint(eng: IosSession, args: tuple[str, ...]) -> Reply:
    """NX-OS ``checkpoint NAME``."""
    name = args[0] if args else ""
    if not name:
        return Reply("% Incomplete command at '^' marker.\n", pageable=False)
    key = "checkpoint:" + name
    if key in eng.state.files:
        return Reply(f"ERROR: Checkpoint name {name} already exists.\n", pageable=False)
    eng.state.files[key] = cfg.intern_config(eng.state.running)
    return Reply("...........Done\n", pageable=False)


def no_checkpoint(eng: IosSession, args: tuple[str, ...]) -> Reply:
    """NX-OS ``no checkpoint NAME``."""
    name = args[0] if args else ""
    if eng.state.files.pop("checkpoint:" + name, None) is None:
        return Reply(f"ERROR: No checkpoint with name {name} exists.\n", pageable=False)
    return Reply(pageable=False)


def rollback_checkpoint(eng: IosSession, args: tuple[str, ...]) -> Reply:
    """NX-OS ``rollback running-config checkpoint NAME``."""
    name = args[0] if args else ""
    key = "checkpoint:" + name
    if key not in eng.state.files:
        return Reply(f"ERROR: Checkpoint {name} does not exist.\n", pageable=False)
    eng.state.running = cfg.share_config(eng.state.files[key])
    eng.state.touch()
    return Reply(NXOS_ROLLBACK, pageable=False)


ACTIONS: dict[str, Action] = {
    "copy_running_file": copy_running,
    "configure_replace": configure_replace,
    "checkpoint": checkpoint,
    "no_checkpoint": no_checkpoint,
    "rollback_checkpoint": rollback_checkpoint,
}

FILE_PHRASES = {
    "copy running-config <arg>": "copy_running_file",
    "configure replace <rest>": "configure_replace",
}
CHECKPOINT_PHRASES = {
    "checkpoint <arg>": "checkpoint",
    "no checkpoint <arg>": "no_checkpoint",
    "rollback running-config checkpoint <arg>": "rollback_checkpoint",
}

"""Backup jobs: which commands fetch a device's configuration, and how their outputs
become one configuration text.

Per platform family (``netfleet.configs.normalise.builtin_family``): the IOS family,
NX-OS, EOS, ASA and IOS-XR run ``show running-config``; Junos ``show configuration``
(hierarchical, the default) or ``show configuration | display set``
(``[backup] junos_format``); Linux reads each file of ``[backup] linux_files`` with
``cat``. A user platform names its own command with ``extra: {backup_command: ...}``.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from dataclasses import dataclass

from netfleet.configs.normalise import builtin_family
from netfleet.core.errors import ConfigRejected
from netfleet.core.models import CommandResult
from netfleet.platforms import PlatformSpec, get_platform

RUNNING_CONFIG = "show running-config"
JUNOS_HIERARCHICAL = "show configuration"
JUNOS_SET = "show configuration | display set"
DEFAULT_LINUX_FILES: tuple[str, ...] = ("/etc/hostname", "/etc/hosts")
FILE_HEADER = "### file: "
"""Starts the line before each file's text in a Linux backup."""

_COMMANDS: dict[str, str] = {
    "cisco_ios": RUNNING_CONFIG,
    "cisco_xe": RUNNING_CONFIG,
    "cisco_nxos": RUNNING_CONFIG,
    "arista_eos": RUNNING_CONFIG,
    "cisco_asa": RUNNING_CONFIG,
    "cisco_xr": RUNNING_CONFIG,
}


@dataclass(frozen=True, slots=True)
class BackupPlan:
    """The commands of one device's backup, and whether they are files (Linux)."""

    commands: tuple[str, ...]
    files: tuple[str, ...] = ()


def backup_plan(
    platform: PlatformSpec | str,
    *,
    junos_format: str = "hierarchical",
    linux_files: Sequence[str] = DEFAULT_LINUX_FILES,
) -> BackupPlan:
    """The commands that fetch ``platform``'s configuration."""
    spec = get_platform(platform) if isinstance(platform, str) else platform
    own = spec.extra.get("backup_command")
    if own:
        return BackupPlan((own,))
    family = builtin_family(spec)
    if family == "juniper_junos":
        return BackupPlan((JUNOS_SET if junos_format == "set" else JUNOS_HIERARCHICAL,))
    if family == "linux" or spec.command_syntax == "shell":
        files = tuple(linux_files)
        return BackupPlan(tuple(f"cat -- {shlex.quote(f)}" for f in files), files)
    return BackupPlan((_COMMANDS.get(family, RUNNING_CONFIG),))


def backup_text(plan: BackupPlan, results: Sequence[CommandResult], *, device: str = "") -> str:
    """The configuration text from the outputs of ``plan``'s commands.

    Raises ``ConfigRejected`` when a command failed or was not run.
    """
    if len(results) != len(plan.commands):
        raise ConfigRejected(
            f"not a configuration: {len(results)} of {len(plan.commands)} outputs", device=device
        )
    for result in results:
        if not result.ok:
            raise ConfigRejected(
                f"not a configuration: {result.command!r} failed: {result.error}", device=device
            )
    if not plan.files:
        return results[0].output
    parts = []
    for name, result in zip(plan.files, results, strict=True):
        body = result.output if result.output.endswith("\n") else result.output + "\n"
        parts.append(f"{FILE_HEADER}{name}\n{body}")
    return "".join(parts)

"""Arista EOS: ``sw1>``, ``sw1#``, ``sw1(config)#``, ``sw1(config-if-Et1/1)#``."""

from __future__ import annotations

from netfleet.platforms.common import CONFIG_MODE, END, HOST, PASSWORD_PROMPT, line_error, prompt
from netfleet.platforms.spec import PlatformSpec, PrivilegeLevel

SPEC = PlatformSpec(
    name="arista_eos",
    display_name="Arista EOS",
    levels=(
        PrivilegeLevel(name="exec", prompt=prompt(HOST, ">")),
        PrivilegeLevel(
            name="privileged",
            prompt=prompt(HOST, "#"),
            enter="enable",
            exit="disable",
            password_prompt=PASSWORD_PROMPT,
        ),
        PrivilegeLevel(
            name="config",
            prompt=prompt(HOST, CONFIG_MODE + "#"),
            enter="configure terminal",
            exit="end",
        ),
    ),
    default_level="privileged",
    on_open=("terminal length 0", "terminal width 32767"),
    error_patterns=(
        line_error(r"% ?Invalid input"),
        line_error(r"% ?Incomplete command"),
        line_error(r"% ?Ambiguous command"),
        line_error(r"% ?Unavailable command"),
        line_error(r"% ?Error"),
    ),
    pager_prompt=r"-+ ?More ?-+" + END,
    save_command="copy running-config startup-config",
    version_patterns=(r"^Arista ", r"Software image version: \d"),
    textfsm_platform="arista_eos",
)

"""Cisco IOS (classic): ``R1>``, ``R1#``, ``R1(config)#``."""

from __future__ import annotations

from netfleet.platforms.common import CONFIG_MODE, END, HOST, PASSWORD_PROMPT, line_error, prompt
from netfleet.platforms.spec import PlatformSpec, PrivilegeLevel

LEVELS = (
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
        host_max_len=20,  # IOS abbreviates the hostname in configuration prompts
    ),
)

ERROR_PATTERNS = (
    line_error(r"% ?Invalid input detected"),
    line_error(r"% ?Incomplete command"),
    line_error(r"% ?Ambiguous command"),
    line_error(r"% ?Unknown command"),
    line_error(r"% ?Unrecognized command"),
    line_error(r"% ?Bad IP address"),
    line_error(r"% ?Bad mask"),
    line_error(r"%Error "),
)

PAGER_PROMPT = r"-+ ?More ?-+" + END

NOT_XE = r"\A(?!(?s:.*)IOS[ \-]?XE)(?s:.*)"
"""Prefix for version patterns: the whole text never mentions IOS-XE."""

SAVE_CONFIRM = (
    (r"Destination filename \[[\w\-.]+\]\?", "\n"),
    (r"Overwrite the previous NVRAM configuration\?\s*\[confirm\]", "\n"),
)

SPEC = PlatformSpec(
    name="cisco_ios",
    display_name="Cisco IOS",
    levels=LEVELS,
    default_level="privileged",
    on_open=("terminal length 0", "terminal width 511"),
    error_patterns=ERROR_PATTERNS,
    pager_prompt=PAGER_PROMPT,
    save_command="copy running-config startup-config",
    save_confirm=SAVE_CONFIRM,
    version_patterns=(
        # Classic IOS only: IOS-XE output also says "Cisco IOS Software", so exclude it.
        NOT_XE + r"Cisco IOS Software",
        NOT_XE + r"IOS \(tm\)",
    ),
    textfsm_platform="cisco_ios",
)

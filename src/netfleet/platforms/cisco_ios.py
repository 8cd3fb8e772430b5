"""Cisco IOS (classic): ``R1>``, ``R1#``, ``R1(config)#``."""

from __future__ import annotations

from netfleet.platforms.common import (
    AMBIGUOUS,
    AUTHORIZATION_FAILED,
    CISCO_PRIVILEGED,
    DELIMITED_BANNER,
    INCOMPLETE,
    INVALID_INPUT,
    MORE_PAGER,
    cisco_levels,
    line_error,
    percent_errors,
)
from netfleet.platforms.spec import PlatformSpec, RestoreSpec

LEVELS = cisco_levels(host_max_len=20)  # IOS abbreviates the hostname in configuration prompts

ERROR_PATTERNS = (
    *percent_errors(
        INVALID_INPUT,
        INCOMPLETE,
        AMBIGUOUS,
        "Unknown command",
        "Unrecognized command",
        "Bad IP address",
        "Bad mask",
    ),
    line_error(r"%Error "),
    AUTHORIZATION_FAILED,
)

PAGER_PROMPT = MORE_PAGER

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
    multiline=(DELIMITED_BANNER,),
    pager_prompt=PAGER_PROMPT,
    save_command="copy running-config startup-config",
    save_confirm=SAVE_CONFIRM,
    # Configuration Replace and Configuration Rollback (IOS 12.3(7)T and later, IOS-XE).
    restore=RestoreSpec(
        snapshot="copy running-config flash:{name}",
        replace="configure replace flash:{name} force",
        answers=(
            (r"Destination filename \[[^\]\n]*\]\?", "\n"),
            (r"Do you want to over ?write\?\s*\[confirm\]", "\n"),
        ),
    ),
    version_patterns=(
        # Classic IOS only: IOS-XE output also says "Cisco IOS Software", so exclude it.
        NOT_XE + r"Cisco IOS Software",
        NOT_XE + r"IOS \(tm\)",
    ),
    textfsm_platform="cisco_ios",
    privileged_commands=(
        *CISCO_PRIVILEGED,
        "arc[hive]",  # archive download-sw / tar /xtract write flash
        "ins[tall]",  # IOS-XE install add|activate|commit
        "sof[tware]",  # IOS-XE software install
    ),
)

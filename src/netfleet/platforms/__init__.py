"""Platforms as data: built-in specs, user platform files, compiled regexes, parsing.

>>> spec = get_platform("cisco_ios")
>>> compiled(spec).match_prompt("R1#").level
'privileged'
"""

from __future__ import annotations

from netfleet.platforms.compiled import CompiledPlatform, PromptMatch, pin_host
from netfleet.platforms.registry import (
    ENV_VAR,
    compiled,
    detect_platform,
    find_platform,
    get_platform,
    known_platforms,
    load_platform_file,
    register_platform,
    reset_registry,
)
from netfleet.platforms.spec import CommitSpec, PlatformSpec, PrivilegeLevel

__all__ = [
    "ENV_VAR",
    "CommitSpec",
    "CompiledPlatform",
    "PlatformSpec",
    "PrivilegeLevel",
    "PromptMatch",
    "compiled",
    "detect_platform",
    "find_platform",
    "get_platform",
    "known_platforms",
    "load_platform_file",
    "pin_host",
    "register_platform",
    "reset_registry",
]

"""Cisco IOS-XE: the IOS CLI (same prompts, errors, save); detected by "IOS XE" in version."""

from __future__ import annotations

import dataclasses

from netfleet.platforms import cisco_ios

SPEC = dataclasses.replace(
    cisco_ios.SPEC,
    name="cisco_xe",
    display_name="Cisco IOS-XE",
    version_patterns=(r"Cisco IOS[ \-]XE Software", r"IOS-XE Software", r"\bIOSXE\b"),
    textfsm_platform="cisco_ios",
)

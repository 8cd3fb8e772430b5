"""Command policy: which commands a command job may send, and how a refusal reads."""

from __future__ import annotations

import pytest

from netfleet.core.errors import CommandNotAllowed
from netfleet.jobs.policy import check_commands, privileged_commands


def test_a_refusal_names_every_platform_that_calls_the_command_privileged() -> None:
    """Not only the first one in name order (``arista_eos`` for a job on IOS devices)."""
    with pytest.raises(CommandNotAllowed) as caught:
        check_commands(["show version", "configure terminal"], admin=True)
    assert str(caught.value).startswith(
        "commands[1] 'configure terminal' is a privileged command (rule 'con[figure]' of "
        "platforms arista_eos, cisco_asa, cisco_ios and 4 more): "
    )
    (commit,) = privileged_commands(["commit"])
    assert commit.platforms == ("cisco_xr", "juniper_junos")
    assert commit.where() == "(rule 'com[mit]' of platforms cisco_xr and juniper_junos)"
    (reboot,) = privileged_commands(["request system reboot"])
    assert reboot.where().endswith(" of platform juniper_junos)")
    assert privileged_commands(["show running-config"]) == []

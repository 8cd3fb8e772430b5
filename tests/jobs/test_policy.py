"""Command policy: which commands a command job may send, and how a refusal reads."""

from __future__ import annotations

import pytest

from netfleet.core.errors import CommandNotAllowed
from netfleet.jobs.policy import PrivilegedHit, check_commands, privileged_commands


def test_a_refusal_names_every_platform_that_calls_the_command_privileged() -> None:
    """Not only the first one in name order (``arista_eos`` for a job on IOS devices).
    Other tests may have registered platforms of their own: the names are read back."""
    (hit,) = privileged_commands(["configure terminal"])
    assert {"arista_eos", "cisco_ios", "cisco_xr", "juniper_junos"} <= set(hit.platforms)
    assert "linux" not in hit.platforms
    with pytest.raises(CommandNotAllowed) as caught:
        check_commands(["show version", "configure terminal"], admin=True)
    first = ", ".join(hit.platforms[:3])
    assert str(caught.value).startswith(
        "commands[1] 'configure terminal' is a privileged command (rule "
        f"{hit.rule!r} of platforms {first} and {len(hit.platforms) - 3} more): "
    )
    assert privileged_commands(["show running-config"]) == []


@pytest.mark.parametrize(
    ("platforms", "where"),
    [
        (("juniper_junos",), "(rule 'r' of platform juniper_junos)"),
        (("cisco_xr", "juniper_junos"), "(rule 'r' of platforms cisco_xr and juniper_junos)"),
        (("a", "b", "c"), "(rule 'r' of platforms a, b and c)"),
        (("a", "b", "c", "d", "e"), "(rule 'r' of platforms a, b, c and 2 more)"),
    ],
)
def test_the_platforms_read_as_a_list(platforms: tuple[str, ...], where: str) -> None:
    assert PrivilegedHit(0, "x", "r", platforms).where() == where

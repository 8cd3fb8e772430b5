"""Backup jobs: the spec, the command per platform, and the text from the outputs."""

from __future__ import annotations

import pytest

from netfleet.core.errors import ConfigRejected, ValidationError
from netfleet.core.models import CommandResult
from netfleet.jobs.backup import backup_plan, backup_text
from netfleet.jobs.model import parse_job_spec


def test_a_backup_spec_takes_targets_only() -> None:
    spec = parse_job_spec({"targets": {"groups": ["core"]}, "backup": True})
    assert (spec.kind, spec.repeatable, spec.exclusive) == ("backup", True, False)
    with pytest.raises(ValidationError, match="a backup job takes no commands"):
        parse_job_spec({"targets": {"groups": ["core"]}, "backup": True, "commands": ["x"]})
    with pytest.raises(ValidationError, match="targets"):
        parse_job_spec({"targets": {}, "backup": True})


@pytest.mark.parametrize(
    ("platform", "command"),
    [
        ("cisco_ios", "show running-config"),
        ("cisco_xe", "show running-config"),
        ("cisco_nxos", "show running-config"),
        ("arista_eos", "show running-config"),
        ("cisco_asa", "show running-config"),
        ("cisco_xr", "show running-config"),
        ("juniper_junos", "show configuration"),
    ],
)
def test_the_command_per_platform(platform: str, command: str) -> None:
    assert backup_plan(platform).commands == (command,)


def test_junos_set_format_and_linux_files() -> None:
    set_plan = backup_plan("juniper_junos", junos_format="set")
    assert set_plan.commands == ("show configuration | display set",)
    plan = backup_plan("linux", linux_files=["/etc/hosts", "/etc/my file"])
    assert plan.commands == ("cat -- /etc/hosts", "cat -- '/etc/my file'")
    text = backup_text(
        plan,
        [
            CommandResult(command=plan.commands[0], output="127.0.0.1 localhost"),
            CommandResult(command=plan.commands[1], output="a\n"),
        ],
    )
    assert text == "### file: /etc/hosts\n127.0.0.1 localhost\n### file: /etc/my file\na\n"


def test_a_failed_or_missing_output_is_rejected() -> None:
    plan = backup_plan("cisco_ios")
    failed = CommandResult(command="show running-config", ok=False, error="% Invalid input")
    with pytest.raises(ConfigRejected, match="Invalid input"):
        backup_text(plan, [failed], device="r1")
    with pytest.raises(ConfigRejected, match="0 of 1 outputs"):
        backup_text(plan, [], device="r1")

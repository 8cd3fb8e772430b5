"""Check rules on outputs before and after a change, and the job fields of safe changes."""

from __future__ import annotations

from typing import Any

import pytest

from netfleet.core.errors import ValidationError
from netfleet.core.models import CommandResult
from netfleet.jobs.changes import CheckSpec, check_rollback
from netfleet.jobs.checks import evaluate
from netfleet.jobs.model import parse_job_spec

BGP_BEFORE = [
    {"bgp_neigh": "10.0.0.1", "state_pfxrcd": "12"},
    {"bgp_neigh": "10.0.0.2", "state_pfxrcd": "7"},
    {"bgp_neigh": "10.0.0.3", "state_pfxrcd": "Idle"},
]


def out(
    text: str = "", parsed: list[dict[str, Any]] | None = None, ok: bool = True
) -> CommandResult:
    return CommandResult(
        command="x", output=text, parsed=parsed, ok=ok, error=None if ok else "% Invalid input"
    )


def test_equal_and_subset_on_text() -> None:
    check = CheckSpec(command="show vlan brief")
    assert evaluate(check, out("a\n b  c\n"), out("a\n b c\n")).ok  # whitespace-insensitive
    changed = evaluate(check, out("a\nb\n"), out("a\nc\n"))
    assert not changed.ok
    assert "gone b" in changed.reason
    assert "new c" in changed.reason
    subset = CheckSpec(command="show ip route", rule="subset")
    assert evaluate(subset, out("r1\nr2\n"), out("r1\nr2\nr3\n")).ok
    missing = evaluate(subset, out("r1\nr2\n"), out("r1\n"))
    assert not missing.ok
    assert "r2" in missing.reason


def test_no_new_errors_ignores_old_ones() -> None:
    check = CheckSpec(command="show logging", rule="no_new_errors")
    before = out("Gi1/0/1 is down\nall good\n")
    assert evaluate(check, before, out("Gi1/0/1 is down\nall good\n")).ok
    bad = evaluate(check, before, out("Gi1/0/1 is down\nGi1/0/2 is down\n"))
    assert not bad.ok
    assert "Gi1/0/2 is down" in bad.reason
    custom = CheckSpec(command="show logging", rule="no_new_errors", pattern="%LINK-3")
    assert evaluate(custom, before, out("Gi1/0/2 is down\n")).ok


def test_contains_and_not_contains() -> None:
    yes = CheckSpec(command="show run", rule="contains", pattern=r"^ntp server 192\.0\.2\.1$")
    assert evaluate(yes, None, out("hostname r1\nntp server 192.0.2.1\n")).ok
    assert not evaluate(yes, None, out("hostname r1\n")).ok
    no = CheckSpec(command="show run", rule="not_contains", pattern="telnet")
    assert evaluate(no, None, out("transport input ssh\n")).ok
    assert not evaluate(no, None, out("transport input telnet\n")).ok


def test_field_rule_counts_parsed_rows() -> None:
    up = CheckSpec(
        command="show ip bgp summary",
        rule="field",
        parse=True,
        field="state_pfxrcd",
        match=r"^\d+$",
        op=">=",
        name="bgp neighbors up >= before",
    )
    lost = [dict(BGP_BEFORE[0]), {**BGP_BEFORE[1], "state_pfxrcd": "Active"}, BGP_BEFORE[2]]
    assert evaluate(up, out(parsed=BGP_BEFORE), out(parsed=BGP_BEFORE)).ok
    verdict = evaluate(up, out(parsed=BGP_BEFORE), out(parsed=lost))
    assert not verdict.ok
    assert "1 rows" in verdict.reason
    assert ">= 2" in verdict.reason
    absolute = up.model_copy(update={"value": 3.0, "op": "=="})
    assert not evaluate(absolute, out(parsed=BGP_BEFORE), out(parsed=BGP_BEFORE)).ok
    unparsed = evaluate(up, out(parsed=None), out(parsed=BGP_BEFORE))
    assert not unparsed.ok
    assert "could not be parsed" in unparsed.reason


def test_a_failed_check_command_fails_the_check() -> None:
    check = CheckSpec(command="show bogus")
    verdict = evaluate(check, out("a"), out(ok=False))
    assert not verdict.ok
    assert "failed after the change" in verdict.reason
    assert verdict.to_dict()["command"] == "show bogus"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"commands": ["show clock"], "template": "x"}, "exactly one of"),
        ({"config": ["x"], "vars": {"a": 1}}, "only a template job takes variables"),
        ({"commands": ["show clock"], "rollback": {}}, "belong to config jobs"),
        (
            {"config": ["x"], "checks": [{"command": "show x", "rule": "contains"}]},
            "needs a pattern",
        ),
        (
            {"config": ["x"], "checks": [{"command": "show x", "rule": "field", "field": "a"}]},
            "parse: true",
        ),
        (
            {"config": ["x"], "checks": [{"command": "show x", "pattern": "("}]},
            "invalid regular expression",
        ),
        ({"config": ["x"], "rollback": {"confirm_timeout_s": 5}}, "rollback.confirm_timeout_s"),
    ],
)
def test_invalid_safe_change_fields(body: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        parse_job_spec({"targets": {"devices": ["r1"]}, **body})


def test_template_job_is_a_config_job() -> None:
    spec = parse_job_spec(
        {"targets": {"devices": ["r1"]}, "template": "hostname {{ device.name }}"}
    )
    assert spec.kind == "config"
    assert spec.max_attempts == 1
    assert spec.exclusive


def test_rollback_refused_for_platforms_without_one() -> None:
    check_rollback([("r1", "cisco_ios"), ("j1", "juniper_junos")])
    with pytest.raises(ValidationError, match="fw1: platform cisco_asa has no safe rollback"):
        check_rollback([("r1", "cisco_ios"), ("fw1", "cisco_asa")])


def test_privileged_check_commands_are_refused() -> None:
    from netfleet.core.errors import CommandNotAllowed
    from netfleet.jobs.policy import check_job_policy

    base = {"targets": {"devices": ["r1"]}, "config": ["ntp server 192.0.2.1"]}
    ok = parse_job_spec({**base, "checks": [{"command": "show ntp associations"}]})
    check_job_policy(ok, admin=True)
    bad = parse_job_spec({**base, "checks": [{"command": "show clock"}, {"command": "reload"}]})
    with pytest.raises(CommandNotAllowed, match=r"checks\[1\] 'reload' is a privileged command"):
        check_job_policy(bad, admin=True)
    allowed = bad.model_copy(
        update={"options": bad.options.model_copy(update={"allow_privileged_commands": True})}
    )
    check_job_policy(allowed, admin=True)

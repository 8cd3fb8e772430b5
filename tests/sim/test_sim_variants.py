"""The device-trust variants of the simulator: parsing, validation and what the wire shows."""

from __future__ import annotations

import pytest

from netfleet_sim.faults import FaultError, Faults, apply_fault_changes, parse_fault_spec


def test_deny_spec_from_the_command_line() -> None:
    glob, changes = parse_fault_spec("sim-ios-*:deny=^conf")
    assert glob == "sim-ios-*"
    faults = apply_fault_changes(Faults(), changes)
    assert faults.deny is not None
    assert faults.deny.search("configure terminal")
    assert faults.to_json()["deny"] == "^conf"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"deny": "("}, "'deny' is not a valid regular expression"),
        ({"login_level": "root"}, "'login_level' must be user or privileged"),
        ({"config_host_len": "x"}, "'config_host_len' must be a number"),
        ({"prompt_motd": "a\nb"}, "'prompt_motd' must be a short line of text"),
        ({"cr_pager": "maybe"}, "'cr_pager' must be true or false"),
        ({"line_delay_ms": -1}, "'line_delay_ms' must not be negative"),
    ],
)
def test_bad_variant_values_are_named(changes: dict[str, object], message: str) -> None:
    with pytest.raises(FaultError, match=message):
        apply_fault_changes(Faults(), changes)


def test_variants_round_trip_through_json() -> None:
    faults = apply_fault_changes(
        Faults(),
        {
            "login_level": "privileged",
            "config_host_len": "20",
            "failover": "pri/act",
            "prompt_motd": "core-sw1#",
            "cr_pager": "true",
            "line_delay_ms": "5",
        },
    )
    data = faults.to_json()
    assert data["login_level"] == "privileged"
    assert data["config_host_len"] == 20
    assert data["failover"] == "pri/act"
    assert data["prompt_motd"] == "core-sw1#"
    assert data["cr_pager"] is True
    assert data["line_delay_ms"] == 5.0

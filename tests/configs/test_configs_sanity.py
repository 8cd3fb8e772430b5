"""Sanity checks: complete configs accepted, empty, error and truncated outputs rejected."""

from __future__ import annotations

import pytest
from configs_samples import sample

from netfleet.configs.normalise import config_sha256, normalise
from netfleet.configs.sanity import check_config, config_problem, prepare_config
from netfleet.core.errors import ConfigRejected, DeviceError

COMPLETE = [
    ("cisco_ios", "ios_a"),
    ("cisco_xe", "ios_a"),
    ("cisco_nxos", "nxos_a"),
    ("arista_eos", "eos_a"),
    ("cisco_asa", "asa_a"),
    ("cisco_xr", "xr_a"),
    ("juniper_junos", "junos_a"),
    ("juniper_junos", "junos_set_a"),
]


@pytest.mark.parametrize(("platform", "name"), COMPLETE)
def test_complete_configs_pass(platform: str, name: str) -> None:
    assert config_problem(sample(name), platform) is None


@pytest.mark.parametrize(
    ("platform", "name"),
    [(p, n) for p, n in COMPLETE if p not in ("cisco_nxos",) and n != "junos_set_a"],
)
def test_truncated_configs_are_rejected(platform: str, name: str) -> None:
    text = sample(name)
    cut = text[: len(text) * 2 // 3]
    problem = config_problem(cut, platform)
    assert problem is not None
    assert "expected" in problem
    assert "truncated" in problem


@pytest.mark.parametrize("platform", [p for p, _ in COMPLETE] + ["linux"])
@pytest.mark.parametrize("text", ["", "\n\n", "   \r\n"])
def test_empty_output_is_rejected(platform: str, text: str) -> None:
    assert config_problem(text, platform) == "the output is empty"


@pytest.mark.parametrize(
    ("platform", "text", "shown"),
    [
        ("cisco_ios", "        ^\n% Invalid input detected at '^' marker.\n", "% Invalid input"),
        ("cisco_nxos", "% Permission denied for the role\n", None),
        ("arista_eos", "% Invalid input (privileged mode required)\n", "% Invalid input"),
        ("juniper_junos", "error: permission denied\n", "error: permission denied"),
        ("cisco_asa", "ERROR: % Invalid input detected at '^' marker.\n", None),
    ],
)
def test_error_output_is_rejected_with_the_devices_text(
    platform: str, text: str, shown: str | None
) -> None:
    problem = config_problem(text, platform)
    assert problem is not None
    if shown is not None:
        assert problem.startswith("the device returned an error: ")
        assert shown in problem


def test_nxos_without_its_header_is_rejected() -> None:
    problem = config_problem("interface Ethernet1/1\n  description x\n", "cisco_nxos")
    assert problem is not None
    assert "'!Command:' header" in problem


def test_junos_unbalanced_or_stray_braces() -> None:
    assert "closes nothing" in (config_problem("}\nsystem {\n}\n", "juniper_junos") or "")
    quoted = 'system {\n    login {\n        message "a } b { c";\n    }\n}\n'
    assert config_problem(quoted, "juniper_junos") is None
    annotated = "/* note { */\nsystem {\n    host-name a;\n}\n"
    assert config_problem(annotated, "juniper_junos") is None
    assert "only comments" in (config_problem("## Last commit: x\n", "juniper_junos") or "")
    assert "last line" in (config_problem("system {\n}\nversion 1;\n", "juniper_junos") or "")


def test_check_config_raises_a_device_error_naming_the_device() -> None:
    with pytest.raises(ConfigRejected) as info:
        check_config("hostname r1\n", "cisco_ios", device="r1")
    assert isinstance(info.value, DeviceError)
    assert info.value.device == "r1"
    assert str(info.value).startswith("r1: not a configuration: expected a configuration ending")


def test_prepare_config_keeps_the_text_and_digests_the_normalised_one() -> None:
    text = sample("ios_a")
    prepared = prepare_config(text, "cisco_ios", device="r1")
    assert prepared.text == text
    assert prepared.normalised == normalise(text, "cisco_ios")
    assert prepared.sha256 == config_sha256(prepared.normalised)
    assert prepared.size == len(text.encode())
    with pytest.raises(ConfigRejected):
        prepare_config(text[:100], "cisco_ios")

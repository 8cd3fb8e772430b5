"""Normalisation: volatile lines dropped or masked, real lines kept, user rules."""

from __future__ import annotations

import dataclasses
import textwrap
from pathlib import Path

import pytest
from configs_samples import sample

from netfleet.configs.normalise import MASK, compile_rules, config_sha256, normalise
from netfleet.core.errors import PlatformFileError
from netfleet.platforms import get_platform, load_platform_file

PAIRS = [
    ("cisco_ios", "ios"),
    ("cisco_xe", "ios"),
    ("cisco_nxos", "nxos"),
    ("arista_eos", "eos"),
    ("cisco_asa", "asa"),
    ("cisco_xr", "xr"),
    ("juniper_junos", "junos"),
    ("juniper_junos", "junos_set"),
]


@pytest.mark.parametrize(("platform", "name"), PAIRS)
def test_volatile_lines_do_not_change_the_digest(platform: str, name: str) -> None:
    a, b = sample(f"{name}_a"), sample(f"{name}_b")
    assert a != b
    assert normalise(a, platform) == normalise(b, platform)
    assert config_sha256(normalise(a, platform)) == config_sha256(normalise(b, platform))


@pytest.mark.parametrize(("platform", "name"), PAIRS)
def test_a_real_change_changes_the_digest(platform: str, name: str) -> None:
    a = sample(f"{name}_a")
    changed = a.replace("host", "hostx", 1)
    assert changed != a
    assert normalise(changed, platform) != normalise(a, platform)


def test_ios_volatile_lines_are_gone_and_the_rest_kept() -> None:
    text = normalise(sample("ios_a"), "cisco_ios")
    for gone in (
        "Building configuration",
        "Current configuration",
        "Last configuration change",
        "NVRAM config last updated",
        "17208144",
    ):
        assert gone not in text
    assert f"ntp clock-period {MASK}\n" in text
    assert text.startswith("!\n!\nversion 15.2\n")
    assert text.endswith("line vty 0 4\n login local\n transport input ssh\n!\nend\n")


def test_kept_lines_per_platform() -> None:
    assert "version 9.3(8) Bios:version 05.47\n" in normalise(sample("nxos_a"), "cisco_nxos")
    assert "!Time" not in normalise(sample("nxos_a"), "cisco_nxos")
    eos = normalise(sample("eos_a"), "arista_eos")
    assert "! device: leaf1 (vEOS-lab, EOS-4.30.1F)\n" in eos
    assert "Startup-config last modified" not in eos
    asa = normalise(sample("asa_a"), "cisco_asa")
    assert ": Serial Number: JAD12345678\n" in asa
    assert "ASA Version 9.8(4)\n" in asa
    assert "Cryptochecksum" not in asa
    assert ": Written by" not in asa
    assert ": Saved" not in asa
    xr = normalise(sample("xr_a"), "cisco_xr")
    assert xr.startswith("!! IOS XR Configuration 7.3.2\n!\nhostname xr1\n")
    junos = normalise(sample("junos_a"), "juniper_junos")
    assert junos.startswith("version 21.4R3.15;\n")


def test_line_endings_and_trailing_blanks_do_not_count() -> None:
    a = "hostname r1 \r\ninterface Gi0/1\r\n description x\r\nend\r\n\r\n"
    b = "\n\nhostname r1\ninterface Gi0/1\n description x\nend\n"
    assert normalise(a, "cisco_ios") == normalise(b, "cisco_ios")
    assert normalise("", "cisco_ios") == ""
    assert normalise(" \n\n", "linux") == ""


def test_linux_keeps_every_line() -> None:
    text = "# Generated at Tue Dec  1 21:30:48 2026\nBuilding configuration...\n"
    assert normalise(text, "linux") == text


def test_a_volatile_looking_line_inside_a_block_is_only_dropped_when_it_matches_fully() -> None:
    text = " description Building configuration...\nhostname x\nend\n"
    assert normalise(text, "cisco_ios") == text


def test_mask_replaces_only_the_groups() -> None:
    rules = compile_rules("t", [(r"^uptime (\d+) days, (\d+) hours$", "mask"), (r"^x$", "drop")])
    assert (
        rules.normalise("uptime 3 days, 4 hours\nx\ny\n")
        == f"uptime {MASK} days, {MASK} hours\ny\n"
    )
    whole = compile_rules("t", [(r"^serial \S+", "mask")])
    assert whole.normalise("serial ABC tail\n") == f"{MASK} tail\n"


@pytest.mark.parametrize(
    ("rule", "problem"),
    [
        (("uptime", "drop"), "must start with '^'"),
        (("^(a", "drop"), "not a valid RE2 pattern"),
        (("^(a)\\1", "drop"), "not a valid RE2 pattern"),
        (("^a", "remove"), "is not 'drop' or 'mask'"),
    ],
)
def test_bad_rules_are_refused(rule: tuple[str, str], problem: str) -> None:
    with pytest.raises(PlatformFileError) as info:
        compile_rules("t", [rule])
    assert problem in str(info.value)


def test_a_pathological_pattern_is_linear() -> None:
    # Exponential for a backtracking engine; RE2 answers at once.
    line = "a" * 200_000
    rules = compile_rules("t", [(r"^(a+)+b$", "drop")])
    assert rules.normalise(line + "\n") == line + "\n"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "p.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_user_platform_file_extends_the_builtin_rules(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        name: cisco_ios
        config_normalise:
          - {pattern: '^! Exported by \\S+ at ', action: drop}
          - {pattern: '^snmp-server engineID local (\\S+)$', action: mask}
        """,
    )
    load_platform_file(path)
    text = "! Exported by tool at noon\nsnmp-server engineID local 8000\nntp clock-period 5\nend\n"
    assert normalise(text, "cisco_ios") == (
        f"snmp-server engineID local {MASK}\nntp clock-period {MASK}\nend\n"
    )
    assert get_platform("cisco_ios").config_normalise[0] == ("^! Exported by \\S+ at ", "drop")


def test_derived_platform_inherits_builtin_and_user_rules(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        - name: cisco_ios
          config_normalise: [{pattern: '^! base$', action: drop}]
        - name: my_ios
          extends: cisco_ios
          config_normalise: [{pattern: '^! mine$', action: drop}]
        """,
    )
    load_platform_file(path)
    spec = get_platform("my_ios")
    assert spec.config_normalise == (("^! base$", "drop"), ("^! mine$", "drop"))
    text = "Current configuration : 9 bytes\n! base\n! mine\nend\n"
    assert normalise(text, spec) == "end\n"


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        ("{pattern: 'x', action: drop}", "config_normalise[0].pattern"),
        ("{pattern: '^(x', action: drop}", "not a valid RE2 pattern"),
        ("{pattern: '^x', action: delete}", "config_normalise[0].action"),
        ("{pattern: '^x'}", "config_normalise[0].action"),
    ],
)
def test_bad_user_rules_name_the_file_and_field(tmp_path: Path, entry: str, problem: str) -> None:
    path = write(tmp_path, f"name: cisco_ios\nconfig_normalise: [{entry}]\n")
    with pytest.raises(PlatformFileError) as info:
        load_platform_file(path)
    assert str(path) in str(info.value)
    assert problem in str(info.value)


def test_unregistered_spec_uses_its_textfsm_family() -> None:
    spec = dataclasses.replace(get_platform("cisco_ios"), name="lab_ios", display_name="lab")
    assert normalise("Current configuration : 9 bytes\nend\n", spec) == "end\n"


def test_an_alternation_stays_anchored_at_the_line_start() -> None:
    rules = compile_rules("t", [(r"^a|b", "drop")])
    assert rules.normalise("a1\nxb\nb2\n") == "xb\n"


def test_rules_with_the_same_group_name_still_work() -> None:
    rules = compile_rules("t", [(r"^(?P<x>a)$", "drop"), (r"^(?P<x>b)$", "drop")])
    assert rules.normalise("a\nc\nb\n") == "c\n"


def test_many_volatile_lines_anywhere() -> None:
    text = "".join(f"line {i}\n! Last configuration change at {i}\n" for i in range(500))
    assert normalise(text + "end\n", "cisco_ios") == "".join(f"line {i}\n" for i in range(500)) + (
        "end\n"
    )

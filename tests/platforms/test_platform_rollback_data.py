"""Rollback mechanisms are platform data: built-ins and platform files."""

from __future__ import annotations

from pathlib import Path

from netfleet.platforms import get_platform, known_platforms
from netfleet.platforms.platform_file import read_platform_file
from netfleet.platforms.spec import PlatformSpec


def lookup(name: str) -> PlatformSpec | None:
    return get_platform(name) if name in known_platforms() else None


def test_builtin_mechanisms() -> None:
    junos = get_platform("juniper_junos").commit
    assert junos is not None
    assert junos.confirmed == "commit confirmed {minutes}"
    assert junos.confirmed_enter == "configure exclusive"
    assert junos.revert == ("rollback 1", "commit")
    xr = get_platform("cisco_xr").commit
    assert xr is not None
    assert xr.confirmed == "commit confirmed {seconds}"
    assert xr.revert == ()  # lets the confirmed commit expire
    for name in ("cisco_ios", "cisco_xe", "arista_eos"):
        restore = get_platform(name).restore
        assert restore is not None
        assert restore.replace.startswith("configure replace flash:{name}")
    nxos = get_platform("cisco_nxos").restore
    assert nxos is not None
    assert nxos.replace == "rollback running-config checkpoint {name}"
    assert get_platform("cisco_asa").restore is None


def test_platform_file_sets_restore_and_confirmed_commit(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(
        "platforms:\n"
        "  - name: acme_rollback\n"
        "    extends: cisco_ios\n"
        "    restore:\n"
        "      snapshot: archive config\n"
        "      replace: configure replace {name} list\n"
        "      answers: [{pattern: 'proceed\\?', answer: \"y\\n\"}]\n"
        "      name: disk0-snap\n"
        "  - name: acme_commit\n"
        "    extends: cisco_xr\n"
        "    commit:\n"
        "      commit: commit\n"
        "      rollback: abort\n"
        "      diff: show diff\n"
        "      confirmed: commit trial {seconds}\n"
        "      revert: [rollback last 1]\n"
    )
    acme, trial = read_platform_file(path, lookup)
    assert acme.restore is not None
    assert acme.restore.answers == (("proceed\\?", "y\n"),)
    assert acme.restore.name == "disk0-snap"
    assert trial.commit is not None
    assert trial.commit.confirmed == "commit trial {seconds}"
    assert trial.commit.revert == ("rollback last 1",)

"""Git export, read back with the git binary."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from configs_samples import sample

from netfleet.configs.gitexport import (
    ConfigExport,
    GitExport,
    device_path,
    export_configs,
)
from netfleet.core.errors import GitExportError

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs the git binary")


def git(repo: Path, *args: str) -> str:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(repo), "GIT_CONFIG_NOSYSTEM": "1"}
    done = subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, env=env, check=True
    )
    return done.stdout


def test_one_commit_per_changed_device_readable_by_git(tmp_path: Path) -> None:
    repo = tmp_path / "backups"
    ios, nxos = sample("ios_a"), sample("nxos_a")
    made = export_configs(
        repo,
        [
            ConfigExport(
                "core-r1",
                ios,
                "Alice Admin <alice@example.net>",
                "Backup",
                job="j-1",
                when=1_700_000_000,
            ),
            ConfigExport("nx1", nxos, "scheduler", "Backup", job="j-1", when=1_700_000_001),
        ],
    )
    assert [c.device for c in made] == ["core-r1", "nx1"]
    changed = ios.replace(" description access", " description uplink")
    again = export_configs(
        repo,
        [
            ConfigExport("core-r1", changed, "Bob <bob@example.net>", "Nightly backup", job="j-2"),
            ConfigExport("nx1", nxos, "Bob <bob@example.net>", "Nightly backup", job="j-2"),
        ],
    )
    assert [c.device for c in again] == ["core-r1"]
    log = git(repo, "log", "--format=%H|%an <%ae>|%cn|%s|%b")
    entries = [line for line in log.splitlines() if "|" in line]
    assert len(entries) == 3
    assert entries[0].split("|")[1:4] == ["Bob <bob@example.net>", "netfleet", "Nightly backup"]
    assert entries[0].split("|")[0] == again[0].commit
    assert "Device: core-r1" in log
    assert "Job: j-2" in log
    assert "scheduler <scheduler@netfleet.invalid>" in git(repo, "log", "--format=%an <%ae>")
    patch = git(repo, "log", "-p", "-1", "--", "core-r1")
    assert "\n- description access\n" in patch
    assert "\n+ description uplink\n" in patch
    assert git(repo, "show", "HEAD:core-r1") == changed
    assert git(repo, "show", "HEAD:nx1") == nxos
    assert git(repo, "status", "--porcelain") == ""
    assert git(repo, "log", "-1", "--format=%at", "--", "nx1").strip() == "1700000001"


def test_an_author_without_email_gets_a_readable_one(tmp_path: Path) -> None:
    repo = tmp_path / "backups"
    export_configs(repo, [ConfigExport("r1", sample("ios_a"), "netfleet backup", "Backup")])
    who = git(repo, "log", "--format=%an <%ae>").strip()
    assert who == "netfleet backup <netfleet-backup@netfleet.invalid>"


def test_unsafe_device_names_become_safe_files(tmp_path: Path) -> None:
    assert device_path("core/r1") == "core%2Fr1"
    assert device_path("..") == "%2E."
    assert device_path("r 1") == "r%201"
    assert device_path("édge") == "%C3%A9dge"
    with GitExport(tmp_path / "g") as repo:
        repo.commit(ConfigExport("../../etc/passwd", "x\n", "a", "m"))
        assert repo.current("../../etc/passwd") == "x\n"
        assert repo.current("other") is None
    names = sorted(p.name for p in (tmp_path / "g").iterdir())
    assert names == ["%2E.%2F..%2Fetc%2Fpasswd", ".git"]


def test_an_existing_directory_becomes_a_repository(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("keep me\n")
    export_configs(tmp_path, [ConfigExport("r1", "hostname r1\n", "a", "m")])
    assert git(tmp_path, "ls-files").split() == ["r1"]
    assert (tmp_path / "notes.txt").read_text() == "keep me\n"


@pytest.mark.parametrize("author", ["", "  ", "a <b", "<x@y>"])
def test_bad_authors_are_refused(tmp_path: Path, author: str) -> None:
    with pytest.raises(GitExportError), GitExport(tmp_path) as repo:
        repo.commit(ConfigExport("r1", "x", author, "m"))


def test_a_path_that_is_a_file_is_a_clear_error(tmp_path: Path) -> None:
    target = tmp_path / "file"
    target.write_text("x")
    with pytest.raises(GitExportError) as info:
        GitExport(target / "repo")
    assert str(target) in str(info.value)


def test_two_versions_of_a_device_in_one_batch_are_two_commits(tmp_path: Path) -> None:
    made = export_configs(
        tmp_path,
        [
            ConfigExport("r1", "hostname a\n", "a", "first", job="j-1"),
            ConfigExport("r2", "hostname b\n", "a", "other", job="j-1"),
            ConfigExport("r1", "hostname c\n", "a", "second", job="j-2"),
        ],
    )
    assert [c.device for c in made] == ["r1", "r2", "r1"]
    assert git(tmp_path, "log", "--format=%s", "--", "r1").split() == ["second", "first"]
    assert (tmp_path / "r1").read_text() == "hostname c\n"
    assert git(tmp_path, "status", "--porcelain") == ""
    git(tmp_path, "fsck", "--strict")

"""``netfleet credentials group-default`` on a SQLite file: set, list (table and JSON),
replace, remove, and one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from cryptography.fernet import Fernet
from typer.testing import CliRunner

from netfleet.cli.app import app

PASSWORD = "Group-Pw-3318-k"


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    monkeypatch.setenv("NETFLEET_SECRET_KEY", Fernet.generate_key().decode())
    monkeypatch.setenv("NETFLEET_CONFIG", str(tmp_path / "absent.toml"))
    monkeypatch.setenv("GROUP_PW", PASSWORD)
    url = ["--db", f"sqlite:///{tmp_path / 'cli.db'}"]
    inventory = tmp_path / "fleet.yaml"
    devices = [
        {"name": f"r{i}", "host": "127.0.0.1", "port": 10_000 + i, "platform": "cisco_ios",
         "groups": ["core"]}
        for i in range(2)
    ]  # fmt: skip
    inventory.write_text(yaml.safe_dump({"devices": devices}))
    runner = CliRunner()
    assert runner.invoke(app, ["inventory", "import", str(inventory), *url]).exit_code == 0
    for name in ("ops", "ops2"):
        added = runner.invoke(
            app, ["credentials", "add", name, "-u", name, "--password-env", "GROUP_PW", *url]
        )
        assert added.exit_code == 0, added.output
    return url


def test_set_list_replace_remove(db: list[str]) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["credentials", "group-default", "core", "ops", *db])
    assert result.exit_code == 0, result.output
    assert "group core: default credential ops (user ops; 2 device(s) in the group)" in (
        result.output
    )
    listing = runner.invoke(app, ["credentials", "group-default", *db])
    assert "core" in listing.output
    assert "ops" in listing.output
    assert PASSWORD not in listing.output
    runner.invoke(app, ["credentials", "group-default", "core", "ops2", *db])
    as_json = runner.invoke(app, ["credentials", "group-default", "-o", "json", *db])
    [item] = json.loads(as_json.stdout)
    assert (item["group"], item["credential"], item["devices"]) == ("core", "ops2", 2)
    removed = runner.invoke(app, ["credentials", "group-default", "core", "--remove", *db])
    assert removed.exit_code == 0, removed.output
    assert "removed the default credential of group core" in removed.output
    as_json = runner.invoke(app, ["credentials", "group-default", "-o", "json", *db])
    assert json.loads(as_json.stdout) == []


def test_errors_are_one_line(db: list[str]) -> None:
    runner = CliRunner()
    for args, words in (
        (["core", "nope"], "credential 'nope' not found"),
        (["core", "--remove"], "has no default credential"),
        (["core"], "name the credential"),
    ):
        result = runner.invoke(app, ["credentials", "group-default", *args, *db])
        assert result.exit_code != 0, args
        assert words in result.output, (args, result.output)
        assert "Traceback" not in result.output

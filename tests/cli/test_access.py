"""The CLI's access rule: every store-backed command gives the same output over
``--url`` (a real ``netfleet serve`` process) and ``--db`` (the same SQLite file)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from netfleet.cli.app import app
from tests.support.e2e import NETFLEET, Proc, base_env


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[dict[str, str], str, str]]:
    """``(env, url, db)``: an API-only server on a SQLite file, an admin token in ``env``."""
    tmp = tmp_path_factory.mktemp("access")
    token = "nf_" + secrets.token_urlsafe(24)
    db = f"sqlite:///{tmp / 'access.db'}"
    env = base_env(tmp, NETFLEET_ADMIN_TOKEN=token)
    proc = Proc([*NETFLEET, "serve", "--db", db, "--port", "0", "--workers", "0"], env, tmp / "log")
    try:
        url = proc.wait_line(r"serving on (http://\S+)", timeout=60).group(1)
        env.pop("NETFLEET_ADMIN_TOKEN")
        yield {**env, "NETFLEET_TOKEN": token, "SECRET_PW": "Pw-77-x"}, url, db
    finally:
        assert proc.stop() == 0, proc.stderr()[-2000:]


def both(served: tuple[dict[str, str], str, str], *args: str) -> tuple[str, str]:
    """Run ``netfleet ARGS`` over ``--url`` and over ``--db``; both outputs (each exit 0)."""
    env, url, db = served
    outputs = []
    for access in (["--url", url], ["--db", db]):
        result = CliRunner().invoke(app, [*args, *access], env=env)
        assert result.exit_code == 0, (access, result.output)
        outputs.append(result.stdout)
    return outputs[0], outputs[1]


def test_every_store_command_answers_the_same_over_url_and_db(
    served: tuple[dict[str, str], str, str], tmp_path: Path
) -> None:
    env, url, db = served
    inventory = tmp_path / "fleet.yaml"
    devices = [
        {"name": f"r{i}", "host": "127.0.0.1", "port": 10_000 + i, "platform": "cisco_ios"}
        for i in range(3)
    ]
    inventory.write_text(yaml.safe_dump({"devices": devices}))
    remote, local = both(served, "inventory", "import", str(inventory))
    assert "3 device(s): 3 created" in remote
    assert "3 device(s): 0 created, 0 updated, 3 unchanged" in local
    assert CliRunner().invoke(
        app, ["credentials", "add", "lab", "-u", "ops", "--password-env", "SECRET_PW", "--db", db],
        env=env,
    ).exit_code == 0  # fmt: skip
    for args in (["devices", "list"], ["devices", "show", "r1"], ["credentials", "list"]):
        remote, local = both(served, *args)
        assert remote == local
        assert "Pw-77-x" not in remote
        remote, local = both(served, *args, "-o", "json")
        assert remote == local

    created = CliRunner().invoke(
        app, ["schedules", "add", "nightly", "--cron", "0 3 * * *", "-d", "r1", "-c", "show clock",
              "--url", url], env=env,
    )  # fmt: skip
    assert created.exit_code == 0, created.output
    for args in (["schedules", "list"], ["schedules", "show", "nightly"]):
        remote, local = both(served, *args)
        assert remote == local
        assert "nightly" in remote

    queued = CliRunner().invoke(
        app, ["jobs", "submit", "-d", "r0", "-d", "r2", "-c", "show version", "--run-at", "+1d",
              "--db", db], env=env,
    )  # fmt: skip
    assert queued.exit_code == 0, queued.output
    assert "2 task(s) queued, not before" in queued.stdout
    job_id = queued.stdout.split()[1].rstrip(":")
    for args in (
        ["jobs", "list"],
        ["jobs", "show", job_id],
        ["jobs", "show", job_id, "-o", "json"],
    ):
        remote, local = both(served, *args)
        assert remote == local
    cancelled = CliRunner().invoke(app, ["jobs", "cancel", job_id, "--db", db], env=env)
    assert cancelled.stdout == f"job {job_id}: cancel requested (cancelled)\n", cancelled.output
    for args in (["jobs", "show", job_id], ["jobs", "logs", job_id]):
        remote, local = both(served, *args)
        assert remote == local
        assert "cancelled" in remote

    made = CliRunner().invoke(app, ["token", "create", "ci", "--url", url], env=env)
    assert made.exit_code == 0, made.output
    remote, local = both(served, "token", "list")
    assert remote == local
    assert "ci" in remote
    assert made.stdout.split()[0] not in remote


def test_a_server_named_by_the_environment_is_used_by_every_command(
    served: tuple[dict[str, str], str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Commands that work on the database when nothing names a server (``token``,
    ``schedules``, ...) go to the server that ``NETFLEET_URL``/``NETFLEET_TOKEN`` name, as
    the others do: a token printed by ``token create`` then works on that server."""
    env, url, db = served
    runner = CliRunner()
    inventory = tmp_path / "one.yaml"
    one = {"name": "env-r1", "host": "127.0.0.1", "port": 10_100, "platform": "cisco_ios"}
    inventory.write_text(yaml.safe_dump({"devices": [one]}))
    imported = runner.invoke(app, ["inventory", "import", str(inventory), "--url", url], env=env)
    assert imported.exit_code == 0, imported.output
    inventory.unlink()
    added = runner.invoke(
        app, ["schedules", "add", "env-night", "--cron", "0 3 * * *", "-c", "show clock",
              "-d", "env-r1", "--url", url], env=env,
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    env = {**env, "NETFLEET_URL": url}
    monkeypatch.chdir(tmp_path)  # a database default (./netfleet.db) would be made here
    made = runner.invoke(app, ["token", "create", "from-env", "--role", "viewer"], env=env)
    assert made.exit_code == 0, made.output
    listed = runner.invoke(app, ["token", "list"], env=env)
    assert listed.exit_code == 0, listed.output
    assert "from-env" in listed.stdout
    schedules = runner.invoke(app, ["schedules", "list"], env=env)
    assert schedules.exit_code == 0, schedules.output
    assert "env-night" in schedules.stdout
    assert list(tmp_path.iterdir()) == []  # no local database was made
    on_db = runner.invoke(app, ["token", "list", "--db", db], env=env)
    assert "from-env" in on_db.stdout  # the server's own database holds it
    viewer = {**env, "NETFLEET_TOKEN": made.stdout.split()[0]}
    assert runner.invoke(app, ["jobs", "list"], env=viewer).exit_code == 0


@pytest.mark.parametrize(
    "args",
    [
        ["schedules", "show", "nope"],
        ["devices", "show", "nope"],
        ["token", "revoke", "nope"],
        ["jobs", "show", "999"],
    ],
)
def test_errors_are_the_same_line_on_both_paths(
    served: tuple[dict[str, str], str, str], args: list[str]
) -> None:
    env, url, db = served
    remote = CliRunner().invoke(app, [*args, "--url", url], env=env)
    local = CliRunner().invoke(app, [*args, "--db", db], env=env)
    assert remote.exit_code == local.exit_code == 2
    assert local.output.startswith("error: ")
    assert local.output.count("\n") == 1
    # Over HTTP the line also names the status: "error: ... (HTTP 404)".
    assert remote.output == local.output.rstrip("\n") + " (HTTP 404)\n"


def test_url_and_db_together_are_refused(served: tuple[dict[str, str], str, str]) -> None:
    env, url, db = served
    result = CliRunner().invoke(app, ["devices", "list", "--url", url, "--db", db], env=env)
    assert result.exit_code == 2
    assert result.output == "error: give --url (and --token) or --db, not both\n"


def test_a_missing_database_directory_is_named(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'no' / 'such' / 'dir' / 'x.db'}"
    env = base_env(tmp_path)
    result = CliRunner().invoke(app, ["jobs", "list", "--db", db], env=env)
    assert result.exit_code == 2, result.output
    assert result.output.startswith("error: directory ")
    assert "for the SQLite database is missing" in result.output


def test_an_import_error_names_the_users_file_over_url_and_db(
    served: tuple[dict[str, str], str, str], tmp_path: Path
) -> None:
    env, url, db = served
    bad = tmp_path / "site-a.yaml"
    bad.write_text("devices:\n  - name: x\n")
    for access in (["--url", url], ["--db", db]):
        result = CliRunner().invoke(app, ["devices", "import", str(bad), *access], env=env)
        assert result.exit_code != 0, access
        assert f"{bad}:2: field 'host': missing for device 'x'" in result.stderr, access
        assert "inventory.yaml" not in result.stderr

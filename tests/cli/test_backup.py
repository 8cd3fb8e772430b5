"""``netfleet backup ...`` and ``schedules add --backup`` against ``netfleet serve`` (one
embedded worker, continuous git export) and ``netfleet sim`` processes over loopback."""

from __future__ import annotations

import json
import re
import secrets
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.e2e import NETFLEET, SIM, Proc, Server, base_env, client, poll, run_cli


@pytest.fixture(scope="module")
def tmp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("backup-cli")


@pytest.fixture(scope="module")
def sim_inventory(tmp: Path) -> Iterator[Path]:
    inventory = tmp / "sim.yaml"
    proc = Proc(
        [
            *SIM,
            "--devices",
            "3",
            "--platforms",
            "cisco_ios,juniper_junos,linux",
            "--inventory",
            str(inventory),
            "--fault",
            "sim-ios-*:volatile_config",
        ],
        base_env(tmp),
        tmp / "sim.log",
    )
    try:
        proc.wait_line(r"netfleet-sim: serving", timeout=120)
        yield inventory
    finally:
        proc.stop()


@pytest.fixture(scope="module")
def server(tmp: Path) -> Iterator[Server]:
    token = "nf_" + secrets.token_urlsafe(24)
    env = base_env(tmp, NETFLEET_ADMIN_TOKEN=token, NETFLEET_BACKUP__GIT_DIR=str(tmp / "live-git"))
    proc = Proc(
        [*NETFLEET, "serve", "--db", f"sqlite:///{tmp / 'b.db'}", "--port", "0"],
        env,
        tmp / "serve.log",
    )
    try:
        url = proc.wait_line(r"serving on (http://\S+)", timeout=120).group(1)
        cli_env = {**env, "NETFLEET_URL": url, "NETFLEET_TOKEN": token}
        cli_env.pop("NETFLEET_ADMIN_TOKEN")
        yield Server(url=url, token=token, env=cli_env, proc=proc)
    finally:
        assert proc.stop() == 0, proc.stderr()[-2000:]


@pytest.fixture(scope="module")
def fleet(server: Server, sim_inventory: Path, tmp: Path) -> dict[str, str]:
    """Platform -> device name, all in group ``all``."""
    doc = yaml.safe_load(sim_inventory.read_text())
    for entry in doc["devices"]:
        entry["groups"] = ["all"]
    (tmp / "fleet.yaml").write_text(yaml.safe_dump(doc))
    done = run_cli(["devices", "import", str(tmp / "fleet.yaml")], server.env)
    assert done.returncode == 0, done.stderr
    return {d["platform"]: d["name"] for d in doc["devices"]}


def _cli(server: Server, *args: str, code: int = 0) -> str:
    done = run_cli(list(args), server.env, timeout=90)
    assert done.returncode == code, (args, done.stdout, done.stderr)
    return done.stdout


def _json(server: Server, *args: str) -> Any:
    return json.loads(_cli(server, *args, "-o", "json"))


def _git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, check=True, timeout=30
    )
    return done.stdout


def test_backup_cli_end_to_end(server: Server, fleet: dict[str, str], tmp: Path) -> None:
    ios, junos = fleet["cisco_ios"], fleet["juniper_junos"]
    out = _cli(server, "backup", "run", "-g", "all", "--wait")
    assert out.count("first configuration version stored") == 3, out
    out = _cli(server, "backup", "run", "--filter", "name=sim-*", "--wait")
    assert out.count("configuration unchanged (version 1)") == 3, out
    history = _json(server, "backup", "history", ios)
    assert [v["version"] for v in history["items"]] == [1]
    first = _cli(server, "backup", "diff", ios)
    assert first == f"{ios}: version 1 is the oldest stored; nothing before it\n"

    (tmp / "change.cfg").write_text("interface Loopback9\n description cli-test\n")
    _cli(server, "jobs", "submit", "-d", ios, "--config-file", str(tmp / "change.cfg"), "--wait")
    (tmp / "junos.cfg").write_text("set system location building b7\n")
    _cli(server, "jobs", "submit", "-d", junos, "--config-file", str(tmp / "junos.cfg"), "--wait")
    out = _cli(server, "backup", "run", ios, "-d", junos, "--wait")  # -d as in jobs submit
    assert f"{ios}: succeeded: configuration version 2 stored" in out, out
    assert f"{junos}: succeeded: configuration version 2 stored" in out, out

    diff = _cli(server, "backup", "diff", ios)
    assert "+interface Loopback9" in diff
    assert "\x1b[" not in diff
    coloured = _cli(server, "backup", "diff", ios, "1", "2", "--color")
    assert "\x1b[32m+interface Loopback9" in coloured
    tree = _cli(server, "backup", "diff", junos, "--hierarchical")
    assert tree.splitlines()[:2] == ["  system {", "+     location {"], tree
    assert "+         building b7;" in tree
    assert "Loopback9" not in _cli(server, "backup", "show", ios, "1")
    assert "Loopback9" in _json(server, "backup", "show", ios)["text"]

    hits = _cli(server, "backup", "grep", "Loopback9").splitlines()
    assert len(hits) == 1
    assert hits[0].startswith(f"{ios}:")
    assert hits[0].endswith(":interface Loopback9")
    assert (
        _json(server, "backup", "grep", "-E", r"^\s+building \w+;$")["items"][0]["device"] == junos
    )
    _cli(server, "backup", "grep", "no-such-line-anywhere", code=1)
    assert "3 ok, 0 failed, 0 stale, 0 never" in _cli(server, "backup", "status")
    _cli(server, "backup", "history", "nope", code=2)
    _cli(server, "backup", "show", ios, "99", code=2)

    repo = tmp / "export"
    out = _cli(server, "backup", "export-git", str(repo))
    assert "5 commit(s) for 3 device(s)" in out, out
    assert _git(repo, "log", "--format=%s", "--", ios).splitlines() == [
        f"{ios}: configuration version 2",
        f"{ios}: configuration version 1",
    ]
    patch = _git(repo, "log", "-p", "-1", "--", ios)
    assert "+interface Loopback9" in patch
    assert "Job: " in patch
    assert "0 commit(s)" in _cli(server, "backup", "export-git", str(repo))

    live = _git(tmp / "live-git", "log", "--format=%s", "--", ios)
    assert live.splitlines() == [
        f"{ios}: configuration version 2",
        f"{ios}: configuration version 1",
    ]
    assert _git(tmp / "live-git", "show", f"HEAD:{ios}") == _git(repo, "show", f"HEAD:{ios}")


def test_backups_through_a_schedule(server: Server, fleet: dict[str, str]) -> None:
    remote = ("--url", server.url, "--token", server.token)
    add = ("schedules", "add")
    nightly = _cli(
        server, *add, "nightly", "--cron", "30 2 * * *", "--backup", "-g", "all", *remote
    )
    assert "nightly" in nightly
    linux = fleet["linux"]
    every_second = ("--cron", "* * * * * *", "--overlap", "skip")
    _cli(server, *add, "soon", *every_second, "--backup", "-d", linux, *remote)
    _cli(server, *add, "bad", *every_second, "--backup", "-c", "show clock", *remote, code=2)
    with client(server.url, server.token) as api:

        def fired() -> dict[str, Any] | None:
            jobs = api.get("/api/v1/jobs", params={"limit": 50}).json()["items"]
            done = [
                j for j in jobs if j["kind"] == "backup" and j["schedule_id"] and j["finished_at"]
            ]
            return done[0] if done else None

        job = poll(fired, 60, "the scheduled backup")
        assert job["state"] == "succeeded"
        assert job["targets"]["devices"] == [linux]
        status = api.get("/api/v1/backups/status", params={"all": "true"}).json()
        [row] = [i for i in status["items"] if i["device"] == linux]
        # The every-second schedule may have fired again since: then a later job of the
        # same schedule recorded it.
        assert row["job_id"] >= job["id"]
        if row["job_id"] != job["id"]:
            later = api.get(f"/api/v1/jobs/{row['job_id']}").json()
            assert (later["kind"], later["schedule_id"]) == ("backup", job["schedule_id"])
        assert row["status"] == "ok"


def test_wait_returns_when_a_rollout_halts(
    server: Server, fleet: dict[str, str], tmp: Path
) -> None:
    """A halted rollout waits for a person (resume or cancel): ``--wait`` returns then,
    saying so, instead of waiting out its timeout."""
    (tmp / "bogus.cfg").write_text("interface Foo0/99\n")
    rollout = '{"canary": 1, "batches": ["100%"], "max_failures": 0}'
    targets = ["-d", fleet["cisco_ios"], "-d", fleet["juniper_junos"]]
    args = ["--config-file", str(tmp / "bogus.cfg"), "--rollout", rollout]
    done = run_cli(
        ["jobs", "submit", *targets, *args, "--wait", "--no-outputs", "--wait-timeout", "60"],
        server.env,
        timeout=120,
    )
    assert done.returncode == 1, (done.stdout, done.stderr)
    found = re.search(r"job (\d+) halted: the rollout's failure budget was exceeded", done.stderr)
    assert found is not None, (done.stdout, done.stderr)
    job_id = found.group(1)
    assert f"'netfleet jobs resume {job_id}' goes on" in done.stderr
    assert "halted" in done.stdout
    _cli(server, "jobs", "cancel", job_id)

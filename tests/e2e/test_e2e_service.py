"""End to end: ``netfleet serve`` and ``netfleet sim`` as separate processes, driven over
HTTP and through the ``netfleet`` CLI (jobs, one-time jobs, cron schedules, errors).

One simulator and one server for the module (starting them is most of the cost); the
fleet is imported with ``netfleet devices import`` over HTTP. (The fixtures live here,
not in a conftest.py: another test directory's modules import names from "conftest".)
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.support.e2e import (
    NETFLEET,
    SIM,
    Proc,
    Server,
    base_env,
    client,
    free_port,
    poll,
    run_cli,
    wait_job,
)


@pytest.fixture(scope="module")
def e2e_tmp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("e2e")


@pytest.fixture(scope="module")
def sim_inventory(e2e_tmp: Path) -> Iterator[Path]:
    """8 simulated devices (all platforms) in a ``python -m netfleet_sim`` process."""
    inventory = e2e_tmp / "sim.yaml"
    proc = Proc(
        [*SIM, "--devices", "8", "--inventory", str(inventory)],
        base_env(e2e_tmp),
        e2e_tmp / "sim.log",
    )
    try:
        proc.wait_line(r"netfleet-sim: serving", timeout=30)
        yield inventory
    finally:
        proc.stop()


@pytest.fixture(scope="module")
def server(e2e_tmp: Path) -> Iterator[Server]:
    """``netfleet serve`` on a fresh SQLite file, an OS-chosen port, one embedded worker."""
    token = "nf_" + secrets.token_urlsafe(24)
    env = base_env(e2e_tmp, NETFLEET_ADMIN_TOKEN=token)
    db = f"sqlite:///{e2e_tmp / 'e2e.db'}"
    proc = Proc(
        [*NETFLEET, "serve", "--db", db, "--port", "0", "--workers", "1"],
        env,
        e2e_tmp / "serve.log",
    )
    try:
        url = proc.wait_line(r"serving on (http://\S+)", timeout=30).group(1)
        cli_env = {**env, "NETFLEET_URL": url, "NETFLEET_TOKEN": token}
        cli_env.pop("NETFLEET_ADMIN_TOKEN")
        yield Server(url=url, token=token, env=cli_env, proc=proc)
    finally:
        code = proc.stop()
        assert code == 0, proc.stderr()[-2000:]


@pytest.fixture(scope="module")
def fleet(server: Server, sim_inventory: Path, e2e_tmp: Path) -> list[dict[str, object]]:
    """The simulator's devices, with a group per platform, imported by the CLI."""
    doc = yaml.safe_load(sim_inventory.read_text())
    for entry in doc["devices"]:
        entry["groups"] = [entry["platform"], "all"]
    inventory = e2e_tmp / "fleet.yaml"
    inventory.write_text(yaml.safe_dump(doc))
    done = run_cli(["devices", "import", str(inventory)], server.env)
    assert done.returncode == 0, done.stderr
    assert "8 device(s): 8 created" in done.stdout
    devices: list[dict[str, object]] = doc["devices"]
    return devices


@pytest.fixture
def api(server: Server) -> Iterator[httpx.Client]:
    with client(server.url, server.token) as c:
        yield c


def _name(fleet: list[dict[str, Any]], platform: str) -> str:
    return str(next(d["name"] for d in fleet if d["platform"] == platform))


def test_http_import_of_the_same_inventory_changes_nothing(
    api: httpx.Client, fleet: list[dict[str, Any]], e2e_tmp: Path
) -> None:
    text = (e2e_tmp / "fleet.yaml").read_text()
    r = api.post("/api/v1/devices/import", json={"format": "netfleet", "text": text})
    assert r.status_code == 200, r.text
    assert (r.json()["unchanged"], r.json()["errors"]) == (len(fleet), 0)
    names = {d["name"] for d in api.get("/api/v1/devices").json()["items"]}
    assert names == {d["name"] for d in fleet}


def test_job_submitted_over_http_runs_on_the_simulated_devices(
    api: httpx.Client, fleet: list[dict[str, Any]]
) -> None:
    r = api.post(
        "/api/v1/jobs",
        json={"targets": {"groups": ["cisco_ios", "arista_eos"]}, "commands": ["show version"]},
    )
    assert r.status_code == 201, r.text
    job = wait_job(api, r.json()["id"])
    assert job["state"] == "succeeded"
    outputs = {t["device"]: t["results"][0]["output"] for t in job["tasks"]}
    assert set(outputs) == {_name(fleet, "cisco_ios"), _name(fleet, "arista_eos")}
    assert "Cisco IOS Software" in outputs[_name(fleet, "cisco_ios")]
    assert "Arista" in outputs[_name(fleet, "arista_eos")]


def test_cli_submit_wait_then_show_as_json(server: Server, fleet: list[dict[str, Any]]) -> None:
    ios = _name(fleet, "cisco_ios")
    args = ["jobs", "submit", "-d", ios, "-c", "show version", "-c", "show clock", "--wait"]
    done = run_cli([*args, "-o", "json"], server.env)
    assert done.returncode == 0, done.stderr
    job = json.loads(done.stdout)
    assert job["state"] == "succeeded"
    [task] = job["tasks"]
    assert [r["command"] for r in task["results"]] == ["show version", "show clock"]

    shown = run_cli(["jobs", "show", str(job["id"]), "-o", "json"], server.env)
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["tasks"][0]["results"] == task["results"]

    table = run_cli(["jobs", "show", str(job["id"])], server.env)
    assert table.returncode == 0, table.stderr
    assert "$ show clock" in table.stdout
    assert ios in table.stdout


def test_cli_wait_exits_1_when_the_job_fails(server: Server, fleet: list[dict[str, Any]]) -> None:
    args = ["jobs", "submit", "-g", "cisco_ios", "-c", "show no-such-thing", "--wait"]
    done = run_cli([*args, "--no-outputs"], server.env)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "failed" in done.stdout


def test_one_time_job_waits_for_run_at_and_logs_follow_streams_it(
    server: Server, api: httpx.Client, fleet: list[dict[str, Any]]
) -> None:
    run_at = datetime.now(UTC) + timedelta(seconds=3)
    r = api.post(
        "/api/v1/jobs",
        json={
            "targets": {"devices": [_name(fleet, "arista_eos")]},
            "commands": ["show clock"],
            "run_at": run_at.isoformat(),
        },
    )
    assert r.status_code == 201, r.text
    job_id = r.json()["id"]
    assert r.json()["state"] == "queued"

    follow = run_cli(["jobs", "logs", str(job_id), "--follow", "-o", "json"], server.env)
    assert follow.returncode == 0, follow.stderr
    events = [json.loads(line) for line in follow.stdout.splitlines()]
    kinds = [e["kind"] for e in events]
    assert "command" in kinds
    assert events[-1] == {"kind": "state", "state": "succeeded", "counts": events[-1]["counts"]}

    job = wait_job(api, job_id, timeout=5)
    assert job["state"] == "succeeded"
    assert job["tasks"][0]["started_at"] >= run_at.timestamp()

    plain = run_cli(["jobs", "logs", str(job_id)], server.env)
    assert plain.returncode == 0, plain.stderr
    assert _name(fleet, "arista_eos") in plain.stdout


def test_cron_schedule_fires_jobs_through_the_service(
    api: httpx.Client, fleet: list[dict[str, Any]]
) -> None:
    r = api.post(
        "/api/v1/schedules",
        json={
            "name": "e2e-every-second",
            "cron": "* * * * * *",
            "job": {
                "targets": {"devices": [_name(fleet, "cisco_nxos")]},
                "commands": ["show clock"],
            },
        },
    )
    assert r.status_code == 201, r.text
    schedule_id = r.json()["id"]

    def two_finished() -> list[dict[str, Any]] | None:
        items = api.get("/api/v1/jobs", params={"schedule": schedule_id}).json()["items"]
        done = [j for j in items if j["finished_at"] is not None]
        return done if len(done) >= 2 else None

    try:
        finished = poll(two_finished, timeout=30, what="two fired jobs to finish")
    finally:
        assert api.delete(f"/api/v1/schedules/{schedule_id}").status_code == 204
    assert {j["state"] for j in finished} == {"succeeded"}
    assert len({j["fire_time"] for j in finished}) == len(finished)


def test_cli_config_file_gives_url_and_token(
    server: Server, fleet: list[dict[str, Any]], e2e_tmp: Path
) -> None:
    config = e2e_tmp / "cli.toml"
    config.write_text(f'url = "{server.url}"\ntoken = "{server.token}"\n')
    env = {k: v for k, v in server.env.items() if k not in ("NETFLEET_URL", "NETFLEET_TOKEN")}
    env["NETFLEET_CLI_CONFIG"] = str(config)
    done = run_cli(["devices", "list", "-o", "json"], env)
    assert done.returncode == 0, done.stderr
    assert len(json.loads(done.stdout)) == len(fleet)


def test_cli_bad_token_is_one_line_and_exit_2(server: Server) -> None:
    done = run_cli(["jobs", "list"], {**server.env, "NETFLEET_TOKEN": "nf_not-a-real-token"})
    assert done.returncode == 2
    assert done.stdout == ""
    [line] = done.stderr.strip().splitlines()
    assert line.startswith("error: ")
    assert "401" in line


def test_cli_rejected_job_names_the_device(server: Server, fleet: list[dict[str, Any]]) -> None:
    done = run_cli(["jobs", "submit", "-d", "no-such-device", "-c", "show version"], server.env)
    assert done.returncode == 2
    [line] = done.stderr.strip().splitlines()
    assert "no-such-device" in line


def test_cli_server_down_is_one_line_naming_the_url(e2e_tmp: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    done = run_cli(["jobs", "list"], base_env(e2e_tmp, NETFLEET_URL=url, NETFLEET_TOKEN="nf_x"))
    assert done.returncode == 1
    [line] = done.stderr.strip().splitlines()
    assert line.startswith("error: ")
    assert url in line


def test_cli_credentials_and_devices_round_trip_without_leaking_the_secret(
    server: Server, fleet: list[dict[str, Any]]
) -> None:
    secret = "Pw-" + secrets.token_urlsafe(12)
    added = run_cli(
        ["credentials", "add", "e2e-lab", "-u", "netops", "--password-stdin"],
        server.env,
        stdin=secret + "\n",
    )
    assert added.returncode == 0, added.stderr
    listed = run_cli(["credentials", "list", "-o", "json"], server.env)
    [cred] = [c for c in json.loads(listed.stdout) if c["name"] == "e2e-lab"]
    assert (cred["username"], cred["has_password"], cred["has_enable_secret"]) == (
        "netops",
        True,
        False,
    )
    device = ["devices", "add", "e2e-r1", "--host", "127.0.0.1", "--port", "2222"]
    made = run_cli([*device, "--platform", "cisco_ios", "--credential", "e2e-lab"], server.env)
    assert made.returncode == 0, made.stderr
    shown = run_cli(["devices", "show", "e2e-r1", "-o", "json"], server.env)
    assert json.loads(shown.stdout)["credentials"] == ["e2e-lab"]
    in_use = run_cli(["credentials", "delete", "e2e-lab"], server.env)
    assert in_use.returncode == 2  # a device still uses it
    assert run_cli(["devices", "delete", "e2e-r1"], server.env).returncode == 0
    assert run_cli(["credentials", "delete", "e2e-lab"], server.env).returncode == 0
    for done in (added, listed, made, shown, in_use):
        assert secret not in done.stdout + done.stderr

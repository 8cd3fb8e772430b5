"""End-to-end fixtures: ``netfleet sim`` and ``netfleet serve`` as separate processes.

One simulator and one server per test module (starting them is most of the cost);
the fleet is imported with ``netfleet devices import`` over HTTP.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import yaml
from e2e_helpers import NETFLEET, SIM, Proc, base_env, client, run_cli


@dataclass(frozen=True)
class Server:
    url: str
    token: str
    env: dict[str, str]
    """Environment for CLI calls against this server (NETFLEET_URL, NETFLEET_TOKEN set)."""
    proc: Proc


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

"""``netfleet run`` with a Nornir inventory folder, and its progress bar on a terminal."""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.cli.test_run import ThreadedSim, run


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThreadedSim]:
    sim = ThreadedSim(tmp_path_factory.mktemp("fleet") / "fleet.yaml", devices=3)
    yield sim
    sim.stop()


@pytest.fixture(autouse=True)
def _settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NETFLEET_CONFIG", str(tmp_path / "absent.toml"))
    monkeypatch.setenv("NETFLEET_CONNECT__KNOWN_HOSTS", str(tmp_path / "known_hosts"))


def _nornir_folder(fleet: ThreadedSim, folder: Path) -> Path:
    """The simulated fleet as Nornir hosts/groups/defaults (credentials from defaults)."""
    entries = yaml.safe_load(fleet.inventory.read_text())["devices"]
    hosts = {
        e["name"]: {
            "hostname": e["host"],
            "port": e["port"],
            "platform": e["platform"],
            "groups": ["lab"],
        }
        for e in entries
    }
    first = entries[0]
    (folder / "hosts.yaml").write_text(yaml.safe_dump(hosts))
    (folder / "groups.yaml").write_text(yaml.safe_dump({"lab": {"data": {"site": "sim"}}}))
    defaults = {"username": first["username"], "password": first["password"]}
    if first.get("enable_secret"):
        defaults["connection_options"] = {"netmiko": {"extras": {"secret": first["enable_secret"]}}}
    (folder / "defaults.yaml").write_text(yaml.safe_dump(defaults))
    return folder


def test_run_on_a_nornir_inventory_folder(fleet: ThreadedSim, tmp_path: Path) -> None:
    folder = _nornir_folder(fleet, tmp_path)
    code, out, err = run(
        "-i", str(folder), "--filter", "group=lab", "-c", "show clock", "-o", "json"
    )  # fmt: skip
    assert code == 0, err
    doc = json.loads(out)
    assert (doc["summary"]["devices"], doc["summary"]["failed"]) == (3, 0)
    assert all(r["commands"][0]["output"] for r in doc["results"])


def _read_terminals(proc: subprocess.Popen[bytes], fds: list[int]) -> dict[int, bytes]:
    """Everything written to each terminal (by its main side ``fd``) until the process ends."""
    seen = dict.fromkeys(fds, b"")
    open_fds = list(fds)
    while open_fds:
        ready, _, _ = select.select(open_fds, [], [], 60)
        if not ready:
            proc.kill()
            pytest.fail("netfleet run wrote nothing for 60 s")
        for fd in ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:  # the terminal closed: the process exited
                chunk = b""
            if chunk:
                seen[fd] += chunk
            else:
                open_fds.remove(fd)
    for fd in fds:
        os.close(fd)
    return seen


def test_progress_bar_on_a_terminal(fleet: ThreadedSim, tmp_path: Path) -> None:
    """With stdout and stderr on terminals the bar is drawn on stderr; piped, it is not."""
    out_main, out_child = pty.openpty()
    err_main, err_child = pty.openpty()
    env = dict(
        os.environ,
        NETFLEET_CONFIG=str(tmp_path / "absent.toml"),
        NETFLEET_CONNECT__KNOWN_HOSTS=str(tmp_path / "known_hosts"),
        COLUMNS="100",
        TERM="xterm",
    )
    args = ["-m", "netfleet", "run", "-i", str(fleet.inventory), "-c", "show clock"]
    proc = subprocess.Popen(
        [sys.executable, *args], stdin=subprocess.DEVNULL, stdout=out_child, stderr=err_child,
        env=env,
    )  # fmt: skip
    os.close(out_child)
    os.close(err_child)
    seen = _read_terminals(proc, [out_main, err_main])
    assert proc.wait(30) == 0
    bar = seen[err_main].decode(errors="replace")
    assert "devices" in bar
    assert "3/3" in bar  # the bar's completed/total column
    assert "0 failed" in bar
    piped = subprocess.run(
        [sys.executable, *args], capture_output=True, env=env, timeout=60, check=True
    )
    assert b"3/3" not in piped.stderr

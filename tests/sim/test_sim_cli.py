"""``python -m netfleet_sim``: one-line errors with exit status 2, and serving until SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from netmiko import ConnectHandler

import netfleet_sim
from netfleet_sim import SimDevice
from netfleet_sim.cli import main
from netfleet_sim.device import Settings
from netfleet_sim.fleet import builtin_platforms
from tests.support.simclient import open_shell

SRC = str(Path(netfleet_sim.__file__).resolve().parent.parent)
ENV = {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", "")}


def first_platform() -> str:
    platforms = builtin_platforms()
    if not platforms:
        pytest.skip("no built-in platforms yet")
    return next(iter(platforms))


async def run_cli(*args: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "netfleet_sim",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=ENV,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


def assert_one_error_line(err: str, *fragments: str) -> None:
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("netfleet sim: error: ")
    for fragment in fragments:
        assert fragment in lines[0]


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--devices", "x"], "--devices"),
        (["--bogus"], "--bogus"),
        (["--devices", "0"], "--devices"),
        (["--max-sessions", "0"], "--max-sessions"),
        (["--config-size", "20000000"], "--config-size"),
        (["--auth", "telepathy"], "telepathy"),
        (["--fault", "sim-*:explode=1"], "explode"),
        (["--fault", "hang_on=("], "hang_on"),
        (["--fault", "r1*:refuse_auth"], "fault pattern 'r1*' matches no device"),
        (["--legacy-algorithms", "sometimes"], "--legacy-algorithms"),
        (["--base-port", "65535", "--devices", "2"], "65535"),
        (["--authorized-key", "/nonexistent/key.pub"], "/nonexistent/key.pub"),
        (["--exec-timeout-s", "0"], "--exec-timeout-s"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    args: list[str], fragment: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(args) == 2
    captured = capsys.readouterr()
    assert_one_error_line(captured.err, fragment)
    assert captured.out == ""


async def test_unknown_platform_from_a_real_process() -> None:
    code, out, err = await run_cli("--platforms", "cisco_ios,nope")
    assert code == 2
    assert_one_error_line(err, "unknown platform 'nope'")
    assert "Traceback" not in err + out


async def test_port_in_use_names_the_port() -> None:
    platform = first_platform()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        # The taken port is the first one needed: the error cannot depend on whether a
        # neighbouring port happens to be in use by another process (ports bind in order).
        code, _, err = await run_cli(
            "--devices", "2", "--platforms", platform, "--base-port", str(port)
        )
    assert code == 2
    assert_one_error_line(err, f"port {port} ", "already in use")


async def test_serves_writes_inventory_and_stops_on_sigterm(tmp_path: Path) -> None:
    platform = first_platform()
    inventory = tmp_path / "fleet.yaml"
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "netfleet_sim",
        "--devices",
        "3",
        "--platforms",
        platform,
        "--inventory",
        str(inventory),
        "--password",
        "s3cret",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=ENV,
    )
    try:
        assert proc.stdout is not None
        line = await asyncio.wait_for(proc.stdout.readline(), 30)
        assert line.startswith(b"netfleet-sim: serving 3 devices"), line
        entries = yaml.safe_load(inventory.read_text())["devices"]
        assert [e["platform"] for e in entries] == [platform] * 3
        entry = entries[2]
        assert entry["password"] == "s3cret"
        device = SimDevice(
            name=entry["name"],
            index=2,
            platform=platform,
            platform_sim=builtin_platforms()[platform],
            state=builtin_platforms()[platform].new_state("x", index=0),
            settings=Settings(password="s3cret"),
            port=entry["port"],
        )
        shell = await open_shell(device)
        shell.close()
        # netmiko sends "exit" and drops the socket at once: the simulator must not
        # keep writing to it (asyncio would warn "socket.send() raised exception").
        for entry in entries:
            await asyncio.to_thread(_netmiko_show_version, entry)
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 0, err
    assert err == b""


def _netmiko_show_version(entry: dict[str, Any]) -> None:
    conn = ConnectHandler(
        device_type=entry["platform"],
        host=entry["host"],
        port=entry["port"],
        username=entry["username"],
        password=entry["password"],
        secret=entry["enable_secret"],
        allow_agent=False,
        use_keys=False,
    )
    try:
        assert conn.send_command("show version" if entry["platform"] != "linux" else "uname -a")
    finally:
        conn.disconnect()

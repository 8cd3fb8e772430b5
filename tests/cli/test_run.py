"""``netfleet run`` end to end on a mixed-platform simulated fleet (typer's CliRunner).

The simulator runs on its own event loop in a thread, because the command runs
``asyncio.run`` itself.
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from netfleet.cli.app import app
from netfleet_sim import Simulator

PLATFORMS = ["cisco_ios", "cisco_xe", "arista_eos"]


class ThreadedSim:
    """A Simulator serving from a background thread until ``stop()``."""

    def __init__(self, inventory: Path, devices: int) -> None:
        self.inventory = inventory
        self.sim: Simulator | None = None
        self._ready = threading.Event()
        self._loop = asyncio.new_event_loop()
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, args=(devices,), daemon=True)
        self._thread.start()
        if not self._ready.wait(30):
            raise RuntimeError("simulator did not start")

    def _run(self, devices: int) -> None:
        async def main() -> None:
            self._stop = asyncio.Event()
            async with Simulator(devices=devices, platforms=PLATFORMS, base_port=0) as sim:
                self.sim = sim
                sim.write_inventory(self.inventory)
                self._ready.set()
                await self._stop.wait()

        self._loop.run_until_complete(main())
        self._loop.close()

    def traffic(self) -> tuple[int, int, int, int]:
        """The fleet's logins, failed logins, commands received and refused connections."""
        assert self.sim is not None
        stats = [d.stats for d in self.sim.devices]
        return (
            sum(s.logins for s in stats),
            sum(s.login_failures for s in stats),
            sum(s.command_count for s in stats),
            sum(s.sessions_refused for s in stats),
        )

    def stop(self) -> None:
        assert self._stop is not None
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(30)


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThreadedSim]:
    sim = ThreadedSim(tmp_path_factory.mktemp("fleet") / "fleet.yaml", devices=6)
    yield sim
    sim.stop()


@pytest.fixture(autouse=True)
def _settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NETFLEET_CONFIG", str(tmp_path / "absent.toml"))
    monkeypatch.setenv("NETFLEET_CONNECT__KNOWN_HOSTS", str(tmp_path / "known_hosts"))


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["run", *args])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def test_json_document_on_mixed_fleet(fleet: ThreadedSim) -> None:
    code, out, err = run(
        "-i", str(fleet.inventory), "-c", "show version", "-c", "show clock", "-o", "json"
    )
    assert code == 0, err
    doc = json.loads(out)
    summary = doc["summary"]
    assert set(summary) == {"devices", "succeeded", "failed", "logins", "reused_sessions",
                            "duration_s"}  # fmt: skip
    assert (summary["devices"], summary["succeeded"], summary["failed"]) == (6, 6, 0)
    assert summary["logins"] == 6
    assert len(doc["results"]) == 6
    assert {r["device"].split("-")[1] for r in doc["results"]} == {"ios", "xe", "eos"}
    for result in doc["results"]:
        assert result["ok"] is True
        assert result["error"] is None
        commands = result["commands"]
        assert [c["command"] for c in commands] == ["show version", "show clock"]
        for c in commands:
            assert {"command", "output", "parsed", "ok", "error", "duration_ms"} <= set(c)
            assert c["ok"] is True
            assert c["output"]


def test_failed_device_gives_exit_code_1(fleet: ThreadedSim) -> None:
    assert fleet.sim is not None
    bad = fleet.sim.devices[1]
    bad.set_faults(refuse_auth=True)
    try:
        code, out, _ = run(
            "-i", str(fleet.inventory), "--filter", "platform=cisco_xe,cisco_ios", "-c",
            "show clock", "-o", "json",
        )  # fmt: skip
    finally:
        bad.clear_faults()
    assert code == 1
    doc = json.loads(out)
    assert doc["summary"]["failed"] == 1
    assert doc["summary"]["devices"] == 4
    failed = [r for r in doc["results"] if not r["ok"]]
    assert [r["device"] for r in failed] == [bad.name]
    assert "auth" in failed[0]["error"].lower()
    assert failed[0]["commands"][0]["ok"] is False


def test_failed_device_is_named_once_in_table_and_errors(fleet: ThreadedSim) -> None:
    assert fleet.sim is not None
    bad = fleet.sim.devices[1]
    bad.set_faults(refuse_auth=True)
    try:
        code, out, err = run(
            "-i", str(fleet.inventory), "--filter", f"name={bad.name}", "-c", "show clock",
        )  # fmt: skip
    finally:
        bad.clear_faults()
    assert code == 1
    line = next(x for x in err.splitlines() if x.startswith("error: "))
    assert line.startswith(f"error: {bad.name}: authentication failed"), line
    assert line.count(bad.name) == 1, line
    table = out[out.index("┏") :]
    assert f"{bad.name}: auth" not in table  # its device column names the device


def test_table_and_failure_strategy(fleet: ThreadedSim) -> None:
    code, out, err = run(
        "-i", str(fleet.inventory), "--filter", "name=sim-eos-*", "-c", "show bogus", "-c",
        "show clock", "--failure-strategy", "abort_first",
    )  # fmt: skip
    assert code == 1
    assert "sim-eos-0003" in out
    assert "failed" in out
    assert "not run: aborted after 1" in out
    assert "error: sim-eos-0003" in err


def test_dir_output_one_file_per_device(fleet: ThreadedSim, tmp_path: Path) -> None:
    target = tmp_path / "out"
    code, _, err = run(
        "-i", str(fleet.inventory), "--filter", "group!=x and name=sim-ios-*", "-c",
        "show clock", "--concurrency", "1", "-o", f"dir:{target}",
    )  # fmt: skip
    assert code == 0, err
    files = sorted(p.name for p in target.iterdir())
    assert files == ["sim-ios-0001.txt", "sim-ios-0004.txt"]
    assert (target / "sim-ios-0001.txt").read_text().startswith("$ show clock\n")


def test_config_file_dry_run(fleet: ThreadedSim, tmp_path: Path) -> None:
    cfg = tmp_path / "change.cfg"
    cfg.write_text("interface Loopback9\n description via-netfleet-run\n")
    code, out, err = run(
        "-i", str(fleet.inventory), "--filter", "sim-ios-0001", "--config-file", str(cfg),
        "--dry-run", "-o", "json",
    )  # fmt: skip
    assert code == 0, err
    result = json.loads(out)["results"][0]
    assert result["ok"] is True


def test_inline_config_lines_are_pushed_before_the_files(
    fleet: ThreadedSim, tmp_path: Path
) -> None:
    cfg = tmp_path / "more.cfg"
    cfg.write_text(" shutdown\n")
    code, out, err = run(
        "-i", str(fleet.inventory), "--filter", "sim-ios-0004", "--config", "interface Loopback8",
        "--config", " description inline", "--config-file", str(cfg), "-o", "json",
    )  # fmt: skip
    assert code == 0, err
    result = json.loads(out)["results"][0]
    sent = [c["command"] for c in result["commands"]]
    assert sent[:3] == ["interface Loopback8", " description inline", " shutdown"]
    code, out, err = run(
        "-i", str(fleet.inventory), "--filter", "sim-ios-0004", "-c",
        "show running-config interface Loopback8",
    )  # fmt: skip
    assert code == 0, err
    assert " description inline" in out
    assert " shutdown" in out


def test_textfsm_parsing(fleet: ThreadedSim) -> None:
    code, out, err = run(
        "-i", str(fleet.inventory), "--filter", "sim-ios-0001", "-c", "show version",
        "--parse", "textfsm", "-o", "json",
    )  # fmt: skip
    assert code == 0, err
    parsed = json.loads(out)["results"][0]["commands"][0]["parsed"]
    assert isinstance(parsed, list)
    assert parsed
    assert "version" in {k.lower() for k in parsed[0]}


BAD_INVENTORY = "devices:\n  - name: a\n    host: 127.0.0.1\n    platform: cisco_ios\n    port: x\n"


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("malformed", r"bad\.yaml:5: field 'port'"),
        ("unknown-format", r"unknown inventory format"),
        ("no-match", r"filter 'name=nothing-\*' matches no device"),
        ("unknown-platform", r"device x1: unknown platform 'cisco_unicorn'"),
        ("missing-config", r"missing\.cfg: configuration file not found"),
        ("both", r"not both"),
        ("both-inline", r"not both"),
        ("blank-inline", r"--config: a configuration line must not be blank"),
        ("bad-strategy", r"abort_after_n:N"),
        ("bad-output", r"expected table, json or dir:PATH"),
        ("privileged", r"'conf t' is a privileged command \(rule 'con\[figure\]'.*--allow"),
        ("newline", r"-c: commands\[0\] .* control character U\+000A"),
    ],
)
def test_bad_input_exits_2_and_contacts_no_device(
    fleet: ThreadedSim, tmp_path: Path, case: str, message: str
) -> None:
    inv = str(fleet.inventory)
    args = ["-i", inv, "-c", "show clock"]
    if case == "malformed":
        (tmp_path / "bad.yaml").write_text(BAD_INVENTORY)
        args = ["-i", str(tmp_path / "bad.yaml"), "-c", "show clock"]
    elif case == "unknown-format":
        (tmp_path / "bad.yaml").write_text("routers: []\n")
        args = ["-i", str(tmp_path / "bad.yaml"), "-c", "show clock"]
    elif case == "no-match":
        args += ["--filter", "name=nothing-*"]
    elif case == "unknown-platform":
        text = fleet.inventory.read_text()
        text += "- {name: x1, host: 127.0.0.1, port: 1, platform: cisco_unicorn}\n"
        (tmp_path / "mixed.yaml").write_text(text)
        args = ["-i", str(tmp_path / "mixed.yaml"), "-c", "show clock"]
    elif case == "missing-config":
        args = ["-i", inv, "--config-file", str(tmp_path / "missing.cfg")]
    elif case == "both":
        args += ["--config-file", str(fleet.inventory)]
    elif case == "both-inline":
        args += ["--config", "ntp server 192.0.2.1"]
    elif case == "blank-inline":
        args = ["-i", inv, "--config", "interface Loopback1", "--config", "  "]
    elif case == "bad-strategy":
        args += ["--failure-strategy", "abort_after_n:0"]
    elif case == "privileged":
        args += ["-c", "conf t"]
    elif case == "newline":
        args = ["-i", inv, "-c", "show clock\nreload"]
    else:
        args += ["-o", "xml"]
    before = fleet.traffic()
    code, out, err = run(*args)
    assert code == 2
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("error: ")
    assert re.search(message, lines[0]), lines[0]
    assert fleet.traffic() == before  # nothing reached any device


def test_running_config_on_the_first_session(fleet: ThreadedSim) -> None:
    """Logins land at user EXEC; every session enters enable first, fresh or reused."""
    code, out, err = run("-i", str(fleet.inventory), "-c", "show running-config", "-o", "json")
    assert code == 0, err
    for result in json.loads(out)["results"]:
        (command,) = result["commands"]
        assert command["ok"] is True, command["error"]
        assert command["output"].rstrip().endswith("end")

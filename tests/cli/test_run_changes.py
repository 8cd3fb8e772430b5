"""``netfleet run --template/--var/--checks/--rollback`` and ``jobs submit`` bodies."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer

from netfleet.cli.change_opts import parse_vars
from netfleet.cli.jobs_cmd import build_body
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


def test_template_dry_run_shows_a_predicted_diff(fleet: ThreadedSim, tmp_path: Path) -> None:
    template = tmp_path / "ntp.j2"
    template.write_text("ntp server {{ vars.server }}\nlogging host {{ device.host }}\n")
    code, out, err = run(
        "-i", str(fleet.inventory), "--template", str(template), "--var", "server=192.0.2.9",
        "--dry-run", "-o", "json",
    )  # fmt: skip
    assert code == 0, err
    results = json.loads(out)["results"]
    assert len(results) == 3
    for result in results:
        assert "+ ntp server 192.0.2.9" in result["diff"]
        assert "Predicted by netfleet" in result["diff"]
        assert result["change"]["lines"][0] == "ntp server 192.0.2.9"
        assert result["change"]["predicted"] is True
    assert fleet.sim is not None
    assert not any("192.0.2.9" in repr(d.state.running) for d in fleet.sim.devices)  # type: ignore[attr-defined]


def test_template_error_exits_2_and_contacts_no_device(fleet: ThreadedSim, tmp_path: Path) -> None:
    template = tmp_path / "bad.j2"
    template.write_text("hostname {{ device.name }}\nntp server {{ vars.nope }}\n")
    before = fleet.traffic()
    code, _, err = run("-i", str(fleet.inventory), "--template", str(template))
    assert code == 2
    assert "bad.j2" in err
    assert "template line 2" in err
    assert "sim-ios-0001" in err
    assert fleet.traffic() == before


def test_rollback_with_failing_check_restores(fleet: ThreadedSim, tmp_path: Path) -> None:
    template = tmp_path / "ntp.j2"
    template.write_text("ntp server 192.0.2.10\n")
    checks = tmp_path / "checks.yaml"
    checks.write_text(
        "- command: show running-config\n  rule: not_contains\n  pattern: '192\\.0\\.2\\.10'\n"
    )
    assert fleet.sim is not None
    before = {d.name: repr(d.state.running) for d in fleet.sim.devices}  # type: ignore[attr-defined]
    code, out, _ = run(
        "-i", str(fleet.inventory), "--filter", "platform=cisco_ios,arista_eos", "--template",
        str(template), "--checks", str(checks), "--rollback",
    )  # fmt: skip
    assert code == 1
    assert "rolled back: post-check failed" in out
    assert {d.name: repr(d.state.running) for d in fleet.sim.devices} == before  # type: ignore[attr-defined]


def test_a_rejected_line_shows_what_the_device_took(fleet: ThreadedSim, tmp_path: Path) -> None:
    """The diff is the device's (the line it took), not the prediction of every line,
    which would show the rejected block as added; the table counts config lines only."""
    cfg = tmp_path / "partial.cfg"
    cfg.write_text("ntp server 192.0.2.44\ninterface Foo0/99\n description never-sent\n")
    code, out, _ = run(
        "-i", str(fleet.inventory), "--filter", "sim-ios-0001", "--config-file", str(cfg)
    )
    assert code == 1
    diff = out.split("--- diff ---\n", 1)[1].split("\n\n", 1)[0]
    assert diff.splitlines() == ["+ ntp server 192.0.2.44"], out
    assert "stopped at 'interface Foo0/99': 1 line(s) before it applied" in out
    assert "│ 1/2 " in out, out


def _body(**fields: Any) -> dict[str, Any]:
    """``build_body`` for device r1, no options or name, with ``fields`` given."""
    args: dict[str, Any] = {
        "devices": ["r1"],
        "groups": [],
        "filter_": None,
        "commands": [],
        "config_file": None,
        "options": {},
        "name": None,
    }
    return build_body(**{**args, **fields})


def test_var_parsing_and_body() -> None:
    assert parse_vars(["a=1", "b=[x, y]", "ntp.source=Lo0", "s=text"]) == {
        "a": 1,
        "b": ["x", "y"],
        "ntp": {"source": "Lo0"},
        "s": "text",
    }
    body = _body(change={"template": "x", "vars": {"a": 1}, "rollback": {}})
    assert body["template"] == "x"
    assert "config" not in body
    assert body["rollback"] == {}


def test_body_of_inline_config_lines_then_the_file(tmp_path: Path) -> None:
    cfg = tmp_path / "tail.cfg"
    cfg.write_text(" no shutdown\n\n")
    body = _body(config_file=cfg, config=["interface Loopback2", " description x"])
    assert body["config"] == ["interface Loopback2", " description x", " no shutdown"]
    with pytest.raises(typer.Exit):
        _body(commands=["show clock"], config=["ntp server 192.0.2.1"])


def test_jobs_show_prints_diff_checks_and_rollback(capsys: pytest.CaptureFixture[str]) -> None:
    from netfleet.cli.jobs_output import show_job

    job = {
        "id": 7,
        "name": None,
        "state": "failed",
        "kind": "config",
        "spec": {"template": "x", "template_name": "ntp.j2"},
        "targets": {"devices": ["r1"]},
        "counts": {
            "queued": 0,
            "retrying": 0,
            "running": 0,
            "succeeded": 0,
            "failed": 1,
            "cancelled": 0,
            "total": 1,
        },
        "tasks": [
            {
                "id": 1,
                "device": "r1",
                "state": "failed",
                "attempts": 1,
                "max_attempts": 1,
                "duration_ms": 5.0,
                "error": "post-check failed",
                "results": [],
                "diff": "+ ntp server 192.0.2.1\n",
                "change": {
                    "checks": [{"name": "contains: show run", "ok": False, "reason": "no match"}],
                    "rolled_back": True,
                    "rollback_reason": "replaced the running configuration",
                },
            }
        ],
    }
    show_job(job)
    out = capsys.readouterr().out
    assert "template ntp.j2" in out
    assert "+ ntp server 192.0.2.1" in out
    assert "check FAILED: contains: show run: no match" in out
    assert "rolled back: replaced the running configuration" in out

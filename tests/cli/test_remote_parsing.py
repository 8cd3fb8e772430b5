"""The remote CLI's own input handling, without a server: endpoint resolution, SSE
framing, --run-at, import formats, and the one-line errors for bad input."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import typer

from netfleet.cli.devices_cmd import import_body
from netfleet.cli.jobs_cmd import parse_run_at, parse_strategy
from netfleet.cli.remote import Endpoint, RemoteError, parse_sse, resolve


def test_endpoint_options_beat_environment_beat_config_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "cli.toml"
    config.write_text('url = "http://file:1"\ntoken = "nf_file"\n')
    monkeypatch.setenv("NETFLEET_CLI_CONFIG", str(config))
    monkeypatch.delenv("NETFLEET_URL", raising=False)
    monkeypatch.delenv("NETFLEET_TOKEN", raising=False)
    assert resolve(None, None) == Endpoint("http://file:1", "nf_file")
    monkeypatch.setenv("NETFLEET_URL", "http://env:2/")
    assert resolve(None, None) == Endpoint("http://env:2", "nf_file")
    assert resolve("http://opt:3", "nf_opt") == Endpoint("http://opt:3", "nf_opt")


def test_endpoint_repr_hides_the_token() -> None:
    assert "nf_secret" not in repr(Endpoint("http://x:1", "nf_secret"))


def test_bad_config_file_and_url_are_input_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "cli.toml"
    config.write_text('server = "http://x"\n')
    monkeypatch.setenv("NETFLEET_CLI_CONFIG", str(config))
    monkeypatch.delenv("NETFLEET_URL", raising=False)
    monkeypatch.delenv("NETFLEET_TOKEN", raising=False)
    with pytest.raises(RemoteError, match="unknown key 'server'") as bad_key:
        resolve(None, None)
    assert bad_key.value.exit_code == 2
    with pytest.raises(RemoteError, match="expected http://") as bad_url:
        resolve("127.0.0.1:8080", "nf_x")
    assert bad_url.value.exit_code == 2


def test_sse_frames_are_parsed_with_ids_and_comments_skipped() -> None:
    lines = [
        "retry: 1000",
        "",
        ": keepalive",
        "",
        "id: 7",
        "event: command",
        'data: {"id": 7, "kind": "command"}',
        "",
        "event: end",
        'data: {"state": "succeeded"}',
        "",
    ]
    assert list(parse_sse(iter(lines))) == [
        ("command", {"id": 7, "kind": "command"}, 7),
        ("end", {"state": "succeeded"}, None),
    ]


def test_run_at_accepts_relative_and_iso_times() -> None:
    now = datetime(2026, 1, 31, 12, 0, tzinfo=UTC)
    assert parse_run_at("+90s", now) == "2026-01-31T12:01:30+00:00"
    assert parse_run_at("+2h", now) == "2026-01-31T14:00:00+00:00"
    assert parse_run_at("2026-02-01T02:00:00", now) == "2026-02-01T02:00:00+00:00"
    with pytest.raises(typer.Exit) as bad:
        parse_run_at("tomorrow", now)
    assert bad.value.exit_code == 2


def test_failure_strategy_options() -> None:
    assert parse_strategy("abort_after_n:3") == {
        "failure_strategy": "abort_after_n",
        "failure_n": 3,
    }
    with pytest.raises(typer.Exit):
        parse_strategy("abort_after_n:0")


def test_import_format_is_guessed_from_the_file(tmp_path: Path) -> None:
    (tmp_path / "fleet.csv").write_text("name,host,platform\nr1,10.0.0.1,ios\n")
    nornir = tmp_path / "nornir"
    nornir.mkdir()
    (nornir / "hosts.yaml").write_text("r1: {hostname: 10.0.0.1, platform: ios}\n")
    (nornir / "groups.yaml").write_text("core: {}\n")
    assert import_body(tmp_path / "fleet.csv", None)["format"] == "csv"
    body = import_body(nornir, None)
    assert body["format"] == "nornir"
    assert body["groups"] == "core: {}\n"
    assert body["defaults"] is None
    with pytest.raises(typer.Exit):
        import_body(tmp_path / "missing.yaml", None)

"""Service logging: text on a terminal, JSON otherwise; job/task/device context on every
line; registered secrets masked; an optional rotating file."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from netfleet.core.logging import (
    bind_context,
    clear_context,
    configure_logging,
    get_logger,
    log_redactor,
    register_secret,
)
from netfleet.core.redact import MASK
from netfleet.core.settings import LogSettings

SECRET = "Quokka-Pw-6612-v"


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        yield
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
            handler.close()
        for handler in handlers:
            root.addHandler(handler)
        root.setLevel(level)


def test_auto_format_is_text_on_a_terminal_and_json_otherwise(restore_logging: None) -> None:
    terminal = _Terminal()
    configure_logging(LogSettings(format="auto"), stream=terminal)
    get_logger("svc.test").info("hello", device="r1")
    line = terminal.getvalue().strip().splitlines()[-1]
    assert "hello" in line
    assert "device=r1" in line
    with pytest.raises(json.JSONDecodeError):
        json.loads(line)

    pipe = io.StringIO()
    configure_logging(LogSettings(format="auto"), stream=pipe)
    get_logger("svc.test").info("hello", device="r1")
    record = json.loads(pipe.getvalue().strip().splitlines()[-1])
    assert (record["event"], record["device"], record["level"]) == ("hello", "r1", "info")


def test_rotating_file_has_context_and_no_secret(tmp_path: Path, restore_logging: None) -> None:
    path = tmp_path / "logs" / "netfleet.log"
    settings = LogSettings(format="json", file=path, file_max_bytes=4000, file_backups=2)
    configure_logging(settings, stream=io.StringIO())
    register_secret(SECRET)
    log = get_logger("svc.test")
    bind_context(job_id=7, task_id=70, device="r9")
    try:
        for n in range(120):
            log.info("step", n=n, note=f"sent {SECRET}", password=SECRET)
    finally:
        clear_context()
    files = sorted(path.parent.iterdir())
    assert [p.name for p in files] == ["netfleet.log", "netfleet.log.1", "netfleet.log.2"]
    records = [json.loads(line) for p in files for line in p.read_text().splitlines()]
    assert records
    assert {(r["job_id"], r["task_id"], r["device"]) for r in records} == {(7, 70, "r9")}
    for p in files:
        assert SECRET not in p.read_text()


def test_a_redactor_with_extra_values_is_reused_until_a_value_is_registered() -> None:
    first = log_redactor(["attempt-secret-1"])
    assert log_redactor(["attempt-secret-1"]) is first
    assert log_redactor(["attempt-secret-2"]) is not first
    register_secret("registered-after-it")
    again = log_redactor(["attempt-secret-1"])
    assert again is not first
    assert again.redact("attempt-secret-1 registered-after-it") == f"{MASK} {MASK}"

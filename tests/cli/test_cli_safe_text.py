"""The CLI never prints terminal escapes it did not produce (job names, commands, outputs)."""

from __future__ import annotations

import pytest

from netfleet.cli.jobs_output import job_list, show_job
from netfleet.cli.safe_text import clean, escape

HOSTILE = "x\x1b]0;owned\x07\x1b[2J\x1b[31mred\u202eevil\x9b"


def test_clean_shows_controls_and_keeps_newlines() -> None:
    assert clean("a\tb\nc") == "a\tb\nc"
    assert clean(HOSTILE) == "x\\x1b]0;owned\\x07\\x1b[2J\\x1b[31mred\\u202eevil\\x9b"
    assert escape("[bold]x\x1b") == "\\[bold]x\\x1b"


def test_job_tables_and_outputs_have_no_raw_escapes(capsys: pytest.CaptureFixture[str]) -> None:
    job = {
        "id": 1, "state": "succeeded", "kind": "commands", "name": HOSTILE,
        "targets": {"devices": ["sw1"]}, "counts": {"succeeded": 1, "failed": 0,
        "cancelled": 0, "queued": 0, "retrying": 0, "running": 0, "total": 1},
        "created_at": 0.0, "finished_at": 1.0,
        "spec": {"commands": [HOSTILE]},
        "tasks": [{"id": 1, "device": "sw1", "state": "succeeded", "error": None,
                   "attempts": 1, "max_attempts": 1, "duration_ms": 5.0,
                   "started_at": 0.0, "finished_at": 1.0,
                   "results": [{"command": HOSTILE, "output": HOSTILE, "ok": True,
                                "error": None, "parsed": None}]}],
    }  # fmt: skip
    job_list([job])
    show_job(job)
    printed = capsys.readouterr().out
    assert "owned" in printed
    for raw in ("\x1b", "\x07", "\u202e", "\x9b"):
        assert raw not in printed

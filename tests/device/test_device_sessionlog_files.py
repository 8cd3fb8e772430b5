"""Session log files: owner-only, and each complete line readable while the session is open."""

from __future__ import annotations

from pathlib import Path

import pytest

from netfleet.core.errors import ConfigurationError, ResourceExhausted
from netfleet.core.redact import Redactor
from netfleet.device.sessionlog import SessionLog
from tests.support.descriptors import descriptors_exhausted


def test_session_log_is_0600_and_flushed_per_line(tmp_path: Path) -> None:
    path = tmp_path / "logs" / "r1.log"
    log = SessionLog(path, Redactor(["hunter22-pw"]))
    try:
        assert path.stat().st_mode & 0o777 == 0o600
        log.received("r1#show clock\r\n12:00:00 UTC\r\nr1#")
        text = path.read_text()  # read by another reader while the log is open
        assert text.endswith("r1#show clock\n12:00:00 UTC\n")
        log.received(" show hunter22-pw\n")
        assert "hunter22-pw" not in path.read_text()
        assert path.read_text().endswith("r1# show ******\n")
    finally:
        log.close()


def test_a_session_log_that_cannot_be_opened_is_a_netfleet_error(tmp_path: Path) -> None:
    """Out of descriptors: transient ``resource_exhausted``; a path that cannot be a file
    (its directory is a file): a configuration error. Never a bare ``OSError``."""
    path = tmp_path / "r1.log"
    with descriptors_exhausted(), pytest.raises(ResourceExhausted) as caught:
        SessionLog(path, Redactor([]))
    assert caught.value.transient
    assert "too many open files" in caught.value.message
    (tmp_path / "not-a-dir").write_text("")
    with pytest.raises(ConfigurationError, match="cannot open the session log"):
        SessionLog(tmp_path / "not-a-dir" / "r1.log", Redactor([]))
    SessionLog(path, Redactor([])).close()  # descriptors back: it opens

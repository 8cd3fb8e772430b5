"""Session log files: owner-only, and each complete line readable while the session is open."""

from __future__ import annotations

from pathlib import Path

from netfleet.core.redact import Redactor
from netfleet.device.sessionlog import SessionLog


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

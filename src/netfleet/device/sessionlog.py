"""A per-device session log: everything received and sent, with secrets masked."""

from __future__ import annotations

import contextlib
import time
from pathlib import Path
from typing import TextIO

from netfleet.core.redact import Redactor


class SessionLog:
    """Appends a session's text to a file, line by line, through a ``Redactor``.

    Text is written per complete line so a secret split across two reads is
    still masked; a partial line is written on ``close``.
    """

    __slots__ = ("_fh", "_partial", "_redactor", "path")

    def __init__(self, path: str | Path, redactor: Redactor) -> None:
        self.path = Path(path).expanduser()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fh: TextIO | None = self.path.open("a", encoding="utf-8")
        self._redactor = redactor
        self._partial = ""

    def __repr__(self) -> str:
        return f"SessionLog({str(self.path)!r})"

    def mark(self, text: str) -> None:
        """Write a netfleet note (session opened/closed ...) on its own line."""
        self._flush_partial()
        self._write(f"--- {time.strftime('%Y-%m-%dT%H:%M:%S%z')} {text}\n")

    def received(self, data: str) -> None:
        text = self._partial + data.replace("\r\n", "\n").replace("\r", "")
        nl = text.rfind("\n")
        if nl < 0:
            self._partial = text
            return
        self._partial = text[nl + 1 :]
        self._write(self._redactor.redact(text[: nl + 1]))

    def sent(self, data: str, *, secret: bool = False) -> None:
        """Record input; a secret (password answer) is never written."""
        if secret:
            self._partial += "******"

    def close(self) -> None:
        self._flush_partial()
        if self._fh is not None:
            with contextlib.suppress(OSError):
                self._fh.close()
            self._fh = None

    def _flush_partial(self) -> None:
        if self._partial:
            self._write(self._redactor.redact(self._partial) + "\n")
            self._partial = ""

    def _write(self, text: str) -> None:
        if self._fh is not None:
            try:
                self._fh.write(text)
            except OSError:
                self._fh = None

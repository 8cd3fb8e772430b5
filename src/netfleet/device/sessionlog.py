"""A per-device session log: everything received and sent, with secrets masked."""

from __future__ import annotations

import contextlib
import os
import re
import time
from pathlib import Path
from typing import TextIO

from netfleet.core.descriptors import TOO_MANY_OPEN_FILES, is_exhaustion
from netfleet.core.errors import ConfigurationError, ResourceExhausted
from netfleet.core.redact import MASK, Redactor

_PEM_BEGIN = re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----")
_PEM_END = re.compile(r"-----END [A-Z0-9 ]*PRIVATE KEY-----")


class SessionLog:
    """Appends a session's text to a file, line by line, through a ``Redactor``.

    Text is written per complete line so a secret split across two reads is
    still masked; a partial line is written on ``close``. The body of a PEM
    private key (``cat id_rsa``) is masked line by line, however it is split.
    """

    __slots__ = ("_fh", "_in_key", "_partial", "_redactor", "path")

    def __init__(self, path: str | Path, redactor: Redactor) -> None:
        self.path = Path(path).expanduser()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        except OSError as exc:
            if is_exhaustion(exc):
                raise ResourceExhausted(
                    f"cannot open the session log {self.path}: {TOO_MANY_OPEN_FILES} "
                    "in this process"
                ) from None
            raise ConfigurationError(
                f"cannot open the session log {self.path}: {exc.strerror or exc}"
            ) from None
        # Line-buffered: each complete line is on disk while the session is open.
        self._fh: TextIO | None = open(fd, "a", encoding="utf-8", buffering=1)  # noqa: SIM115
        self._redactor = redactor
        self._partial = ""
        self._in_key = False

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
        self._write(self._redactor.redact(self._mask_key_lines(text[: nl + 1])))

    def _mask_key_lines(self, text: str) -> str:
        if not self._in_key and "PRIVATE KEY-----" not in text:
            return text
        lines = text.split("\n")
        for i, line in enumerate(lines):
            if _PEM_END.search(line):
                self._in_key = False
            elif self._in_key and line:
                lines[i] = MASK
            elif _PEM_BEGIN.search(line):
                self._in_key = True
        return "\n".join(lines)

    def sent(self, data: str, *, secret: bool = False) -> None:
        """Record input; a secret (password answer) is never written."""
        if secret:
            self._partial += MASK

    def close(self) -> None:
        self._flush_partial()
        if self._fh is not None:
            with contextlib.suppress(OSError):
                self._fh.close()
            self._fh = None

    def _flush_partial(self) -> None:
        if self._partial:
            self._write(self._redactor.redact(self._mask_key_lines(self._partial)) + "\n")
            self._partial = ""

    def _write(self, text: str) -> None:
        if self._fh is not None:
            try:
                self._fh.write(text)
            except OSError:
                self._fh = None

"""Redaction and the channel's text cleaning (pure functions)."""

from __future__ import annotations

import re
from pathlib import Path

import asyncssh
from hypothesis import given, settings
from hypothesis import strategies as st

from netfleet.channel import normalize, strip_echo
from netfleet.channel.text import DECODE_MIN, split_partial_escape
from netfleet.core.redact import MASK, Redactor
from netfleet.device.sessionlog import SessionLog


def test_redactor_masks_values_and_secret_config_lines() -> None:
    r = Redactor(["hunter22", None, "enable-pw"])
    text = "\n".join(
        [
            "login with hunter22 ok",
            "username admin privilege 15 secret 5 $1$abcd$XYZ",
            "username ops password 7 0822455D0A16",
            "enable secret 9 $9$nhEmQVczB7dqsO$X",
            "enable password enable-pw",
            "snmp-server community public RO",
            " key 7 0822455D0A16",
            " pre-shared-key address 10.0.0.1 key s3cr3t",
            '    encrypted-password "$6$salt$hash"; ## SECRET-DATA',
            " tacacs-server key t4c4cs",
            "interface Loopback0",
            " description keyless interface",
        ]
    )
    out = r.redact(text)
    for secret in (
        "hunter22",
        "enable-pw",
        "$1$abcd$XYZ",
        "0822455D0A16",
        "$9$nhEmQVczB7dqsO$X",
        "public",
        "s3cr3t",
        "$6$salt$hash",
        "t4c4cs",
    ):
        assert secret not in out, secret
    assert "username admin privilege 15 secret 5 " + MASK in out
    assert "snmp-server community " + MASK + " RO" in out
    assert " description keyless interface" in out
    assert "interface Loopback0" in out
    assert "hunter22" not in repr(r)


def test_session_log_masks_private_key_bodies_however_split(tmp_path: Path) -> None:
    key = asyncssh.generate_private_key("ssh-ed25519").export_private_key().decode()
    body = key.splitlines()[1:-1]
    assert body
    text = f"$ cat id_ed25519\r\n{key.replace(chr(10), chr(13) + chr(10))}user@h:~$ ls\r\nnotes\r\n"
    log = SessionLog(tmp_path / "s.log", Redactor(["pw-123"]))
    for i in range(0, len(text), 7):  # arrives in small pieces, lines split anywhere
        log.received(text[i : i + 7])
    log.received("-----BEGIN RSA PRIVATE KEY-----\nMIIEow")  # cut off mid-key
    log.close()
    written = (tmp_path / "s.log").read_text()
    for line in body:
        assert line not in written
    assert "-----BEGIN OPENSSH PRIVATE KEY-----\n" + MASK + "\n" in written
    assert "-----END OPENSSH PRIVATE KEY-----\nuser@h:~$ ls\nnotes\n" in written
    assert "MIIEow" not in written


def test_normalize_line_endings_ansi_and_pager_erase() -> None:
    raw = "line1\r\nline2\r\r\n\x1b[1mbold\x1b[0m\r\n\x08\x08\x08   \x08\x08\x08next"
    assert normalize(raw) == "line1\nline2\nbold\nnext"


def _reference_normalize(data: str) -> str:
    """Line endings as ``normalize`` treats them, the plain way (two ``str.replace``)."""
    data = data.replace("\r\n", "\n")
    return re.sub(r"\r[ \t]*(?=\r)", "", data).replace("\r", "")


@given(st.text("ab \t\r\n", min_size=1, max_size=80), st.integers(1, 40))
@settings(max_examples=300, deadline=None)
def test_long_chunks_treat_line_endings_like_short_ones(unit: str, times: int) -> None:
    """Long chunks take a one-pass CR/LF path; lone CRs (pager erasures) the plain one."""
    data = unit * (DECODE_MIN // len(unit) + times)
    assert normalize(data) == _reference_normalize(data)
    crlf = data.replace("\r", "").replace("\n", "\r\n")
    assert normalize(crlf) == crlf.replace("\r\n", "\n")


def test_partial_escape_is_kept_for_the_next_chunk() -> None:
    head, rest = split_partial_escape("abc\x1b[3")
    assert (head, rest) == ("abc", "\x1b[3")
    assert normalize(rest + "1mred") == "red"
    assert split_partial_escape("plain") == ("plain", "")


def test_strip_echo_only_removes_the_commands_own_echo() -> None:
    assert strip_echo("show clock\n12:00\n", "show clock") == "12:00\n"
    assert strip_echo("R1#show clock\n12:00\n", "show clock") == "12:00\n"
    assert strip_echo("12:00\n", "show clock") == "12:00\n"
    assert strip_echo("terminal length 0", "terminal length 0") == ""

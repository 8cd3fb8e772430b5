"""Redaction and the channel's text cleaning (pure functions)."""

from __future__ import annotations

from netfleet.channel import normalize, strip_echo
from netfleet.channel.text import split_partial_escape
from netfleet.core.redact import MASK, Redactor


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


def test_normalize_line_endings_ansi_and_pager_erase() -> None:
    raw = "line1\r\nline2\r\r\n\x1b[1mbold\x1b[0m\r\n\x08\x08\x08   \x08\x08\x08next"
    assert normalize(raw) == "line1\nline2\nbold\nnext"


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

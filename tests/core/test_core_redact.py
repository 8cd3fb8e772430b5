"""Redaction: what is masked, short secrets, and linear time on hostile input."""

from __future__ import annotations

import gc
import time
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netfleet.core.logging import redact_text
from netfleet.core.redact import GENERIC_RULES, MASK, Redactor, SecretRule


def _ratio(fn: Callable[[str], str], small: str, large: str) -> float:
    """Best CPU time on ``large`` over best on ``small``, measured interleaved.

    CPU time of this process, not wall time: waiting for a core on a loaded machine
    does not count, so the ratio measures the work done."""
    best = {0: float("inf"), 1: float("inf")}
    fn(small)  # warm up
    gc.disable()
    try:
        for _ in range(5):
            for which, text in enumerate((small, large)):
                started = time.process_time()
                fn(text)
                best[which] = min(best[which], time.process_time() - started)
    finally:
        gc.enable()
    return best[1] / max(best[0], 1e-4)


HOSTILE: dict[str, Callable[[int], str]] = {
    "blank lines": lambda n: "/x" + "\n" * n,
    "blank lines with spaces": lambda n: "password" + " \n" * n,
    "username chains": lambda n: ("username a b c d e f g h\n" + "\n" * 20) * (n // 30),
    "one long username line": lambda n: "username " * (n // 9),
    "unclosed quotes": lambda n: 'secret "' * (n // 8),
    "key=value runs": lambda n: "password=" * (n // 9) + " token:" * (n // 14),
    "a needle on every line": lambda n: "key auth priv $9$x\n" * (n // 19),
    "needles packed on one line": lambda n: "keyauth$9$" * (n // 10) + "\n key",
    "needles far from line breaks": lambda n: ("x" * 5000 + " key") * (n // 5004),
    "key ids in one key chain": lambda n: (
        "key chain k\n" + " key 1\n  key-string 7 0A\n" * (n // 24)
    ),
    "key ids at falling indents": lambda n: "".join(
        " " * (40 - i % 40) + "key 1\n" for i in range(n // 26)
    ),
    "key ids below a long block": lambda n: "x\n" + "  y\n" * (n // 8) + " key 1\n" * (n // 14),
}


@pytest.mark.parametrize("shape", list(HOSTILE))
@pytest.mark.parametrize("which", ["Redactor", "redact_text"])
def test_redaction_is_linear_on_hostile_input(shape: str, which: str) -> None:
    """Eight times the input costs about eight times the work (quadratic: 64x)."""
    fn = Redactor(["hunter22"]).redact if which == "Redactor" else redact_text
    make = HOSTILE[shape]
    small, large = make(20_000), make(160_000)
    # Load on the machine only ever inflates one side: retry; quadratic work never passes.
    ratios = []
    for _ in range(3):
        ratios.append(_ratio(fn, small, large))
        if ratios[-1] < 24:
            break
    assert min(ratios) < 24, f"{which} on {shape}: 8x input took {ratios}x"


def test_vendor_secret_lines_are_masked() -> None:
    r = Redactor(["hunter22"])
    cases = {
        "enable secret 9 $9$nhEmQVczB7dqsO$X": "enable secret 9 ",
        "enable password 7 0822455D0A16": "enable password 7 ",
        "enable password level 15 8Ry2YjIyt7RRXU24 encrypted": "enable password level 15 ",
        " password 7 0822455D0A16": " password 7 ",
        "username ops privilege 15 role network-admin secret 5 $1$ab$cd": "secret 5 ",
        "username admin password 0 Plain-pw-1": "password 0 ",
        "snmp-server community Pub1ic-RO RO": "snmp-server community ",
        "snmp-server user u g v3 auth sha AuthKey-123 priv aes 128 PrivKey-456": "auth sha ",
        " key-string 7 104D000A0618": " key-string 7 ",
        " key 7 0822455D0A16": " key 7 ",
        "tacacs-server host 10.0.0.9 key 7 05080F1C2243": "key 7 ",
        " pre-shared-key address 10.0.0.1 key s3cr3t-psk": "key ",
        ' pre-shared-key ascii-text "$9$abcDEF"; ## SECRET-DATA': "pre-shared-key ascii-text ",
        '    encrypted-password "$6$salt$hash"; ## SECRET-DATA': "encrypted-password ",
        'secret "$9$qz3.5z6CAuO"': "secret ",
        "passwd 2KFQnbNIdI.2KYOU encrypted": "passwd ",
        "set system login user x authentication encrypted-password $6$a$b": "encrypted-password ",
    }
    for line, kept in cases.items():
        out = r.redact(line)
        assert MASK in out, line
        assert kept in out, (line, out)
        for word in line.split():
            if any(c.isdigit() for c in word) and len(word) > 6 and "." not in word[:4]:
                assert word.strip('";') not in out, (line, out)
    v3 = "snmp-server user u g v3 auth sha A-123 priv aes 128 PrivKey-456"
    assert "PrivKey-456" not in r.redact(v3)


def test_ordinary_lines_are_left_alone() -> None:
    r = Redactor()
    text = "\n".join(
        [
            "interface Loopback0",
            " description keyless interface",
            "key chain OSPF-KEYS",
            "crypto key generate rsa modulus 2048",
            "Router uptime is 3 weeks",
            "",
            "   ",
        ]
    )
    assert r.redact(text) == text


def test_short_known_secrets_do_not_mask_characters() -> None:
    r = Redactor(["a", "xy", "abc"])
    text = "a banana and xy abc"
    assert r.redact(text) == text  # by value only from MIN_SECRET_LEN; rules still apply
    assert MASK in r.redact("enable secret a")


def test_known_values_and_key_values_in_logs() -> None:
    out = redact_text("login hunter2-long, token=abc123 password: s3cr3t", ["hunter2-long"])
    for secret in ("hunter2-long", "abc123", "s3cr3t"):
        assert secret not in out
    assert "hunter" not in repr(Redactor(["hunter2-long"]))


@pytest.mark.parametrize("filler", ["interface Gi0/1\n", "zzzz\n"])
def test_known_values_in_long_texts_are_masked(filler: str) -> None:
    """Long texts look for a value's rarest character first (common or not in the text)."""
    text = filler * 3000 + " description q7Zz-uplink\n" + filler * 10
    out = Redactor(["q7Zz-uplink"]).redact(text)
    assert "q7Zz" not in out
    assert out.count(MASK) == 1


def test_user_rules_extend_the_generic_ones() -> None:
    rule = SecretRule("^ set security ike policy * pre-shared-key ascii-text <secret>")
    r = Redactor(rules=[rule])
    assert r.redact("set security ike policy p pre-shared-key ascii-text Sekrit-1") == (
        f"set security ike policy p pre-shared-key ascii-text {MASK}"
    )
    with pytest.raises(ValueError, match="secret"):
        Redactor(rules=[SecretRule("enable secret")])


async def test_aredact_runs_long_texts() -> None:
    r = Redactor(["hunter22"])
    text = "hunter22\n" * 20_000
    assert "hunter22" not in await r.aredact(text)


_VOCABULARY = """
enable secret password username snmp-server community auth priv key key-string
authentication-key pre-shared-key encrypted-password ascii-text hexadecimal passwd
tacacs-server radius-server host md5 sha 5 7 9 level 15 $9$abc interface ip any
R1(config)#username r1#enable sw1>key 'x' "q" token=1 PASSWORD Secret KEY
"""
_WORDS = _VOCABULARY.split()


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.lists(st.sampled_from(_WORDS), max_size=9).map(" ".join).map(lambda s: s[:60]),
        max_size=12,
    ),
    st.booleans(),
)
def test_the_line_prefilter_never_skips_a_line_a_rule_masks(
    lines: list[str], key_values: bool
) -> None:
    """Masking only candidate lines gives what tokenising every line gives."""
    rules = (*GENERIC_RULES, SecretRule("^ neighbor * password [N] <secret>"))
    r = Redactor((), rules, key_values=key_values)
    text = "\n".join(lines)
    every = "\n".join(r._line(line, line.lower()) for line in text.split("\n"))
    assert r.redact(text) == every


@pytest.mark.parametrize("header", ["key chain K", "KEY CHAIN K", "Key Chain K"])
def test_capitals_mask_as_lower_case_in_long_texts(header: str) -> None:
    """Long ASCII texts are searched case-insensitively as they are (not lower-cased as a
    whole): capitalised secret lines, and key ids under a capitalised key chain header,
    mask as their lower-case spelling does."""
    r = Redactor()
    block = f"{header}\n KEY 1\n  Key-String 7 0A0B\nENABLE SECRET 5 $1$abc\n"
    text = "interface Gi0/1\n description x\n" * 400 + block
    out = r.redact(text)
    assert out.count(MASK) == r.redact(text.lower()).count(MASK) == 2
    assert "0A0B" not in out
    assert "$1$abc" not in out
    assert " KEY 1\n" in out  # the key id under the header is not taken for a secret

"""User-given RE2 patterns: compiled quietly, errors as text."""

from __future__ import annotations

import pytest

from netfleet.core.regex import compile_re2


def test_compiles_and_searches() -> None:
    assert compile_re2(r"^interface Loopback\d+$").search("interface Loopback7") is not None


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [("(((", "missing ): ((("), ("a{1001}", "invalid repetition size: {1001}"), (r"(a)\1", "")],
)
def test_rejection_is_readable_text_and_not_logged(
    pattern: str, reason: str, capfd: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(ValueError) as caught:
        compile_re2(pattern)
    message = str(caught.value)
    assert message
    assert "b'" not in message
    assert reason in message
    assert capfd.readouterr().err == ""  # RE2 prints nothing of its own on stderr

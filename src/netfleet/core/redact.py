"""Mask secrets in device text: known secret values and config lines that carry secrets.

``Redactor(secrets).redact(text)`` is used by session logs (and may be used by
logging): given secret values (passwords, enable secrets) are replaced wherever
they appear, and the value part of secret-bearing configuration lines is masked
whatever it is (``username x secret 5 ...``, ``enable secret ...``,
``snmp-server community X``, ``key ...``, ``pre-shared-key ...``, Junos
``encrypted-password "..."``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

MASK = "******"

# Each pattern keeps group 1 (the keyword part) and masks the rest of the match.
_CONFIG_PATTERNS: tuple[re.Pattern[str], ...] = (
    # username admin privilege 15 secret 5 $1$abc / password 7 0822455D0A16
    re.compile(r"(?im)(\busername\s+\S+(?:\s+\S+)*?\s+(?:secret|password)\s+(?:\d+\s+)?)\S+"),
    # enable secret 5 xxx / enable password yyy / "secret 0 x" / "password x" at line start
    re.compile(r"(?im)(^[ \t]*(?:enable\s+)?(?:secret|password)\s+(?:\d+\s+)?)\S+"),
    re.compile(r"(?im)(\bsnmp-server\s+community\s+)\S+"),
    # EOS/NX-OS "snmp-server user x group auth md5 KEY priv aes KEY"
    re.compile(r"(?im)(\b(?:auth\s+(?:md5|sha\S*)|priv\s+(?:aes\S*|des\S*))\s+)\S+"),
    re.compile(r"(?im)(\bpre-shared-key\s+(?:\w+\s+)?(?:\d+\s+)?)\S+"),
    # "key 7 0822..", "key-string 7 ...", "tacacs-server key X", "authentication-key ..."
    re.compile(r"(?im)(\b(?:key-string|authentication-key|key)\s+(?:\d+\s+)?)(?!chain\b)\S+"),
    # Junos: encrypted-password "$6$..."; secret "$9$..."; authentication-key "$9$..."
    re.compile(r"(?im)(\b(?:encrypted-password|secret|pre-shared-key\s+ascii-text)\s+)\"[^\"]*\""),
    # ASA: "passwd 2KFQnbNIdI.2KYOU encrypted"
    re.compile(r"(?im)(^[ \t]*passwd\s+)\S+"),
)


class Redactor:
    """Masks secret values and secret-bearing config lines in text."""

    __slots__ = ("_values",)

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        values = sorted({s for s in secrets if s and len(s) >= 2}, key=len, reverse=True)
        self._values: re.Pattern[str] | None = (
            re.compile("|".join(re.escape(v) for v in values)) if values else None
        )

    def __repr__(self) -> str:
        return "Redactor(<secrets hidden>)"

    def redact(self, text: str) -> str:
        """``text`` with every known secret value and secret config value masked."""
        if self._values is not None:
            text = self._values.sub(MASK, text)
        for pattern in _CONFIG_PATTERNS:
            text = pattern.sub(_keep_keyword, text)
        return text


def _keep_keyword(match: re.Match[str]) -> str:
    return match.group(1) + MASK

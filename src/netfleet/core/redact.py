"""Mask secrets in text, in linear time: known secret values and secret-bearing lines.

``Redactor(secrets, rules).redact(text)`` replaces every known secret value (at
least ``MIN_SECRET_LEN`` characters, so a short password never masks single
characters everywhere) and the value of every line shaped like a ``SecretRule``
(``enable secret 9 $9$...``, ``username x ... secret 5 ...``, Junos
``encrypted-password "..."``). Tokens that look like Junos ``$9$`` strings are
masked wherever they appear.

There are no backtracking regular expressions here. A few ``str.find`` scans for
needles (per rule, one of its required literal words; ``key`` covers
``key-string``) find the candidate lines; only those are split into
whitespace-separated tokens, each token is looked up in a table of rule start
words, and a rule match looks at a bounded number of following tokens. The work is
linear in the text length, and text without candidates costs a few scans in C.
``await redactor.aredact(text)`` runs large texts in a worker thread.

The rule language (``SecretRule``) is described in ``netfleet.core.redact_rules``.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterable, Sequence

from netfleet.core.redact_rules import (
    LOG_KEYS,
    TOKEN_PREFIXES,
    Blocks,
    Rule,
    SecretRule,
    compile_rule,
    match_steps,
    needles_for,
    word_matches,
)
from netfleet.core.scan import Needles, contains, rarest

__all__ = [
    "GENERIC_RULES",
    "LOG_KEYS",
    "MASK",
    "MIN_SECRET_LEN",
    "TOKEN_PREFIXES",
    "Redactor",
    "SecretRule",
]

MASK = "******"
MIN_SECRET_LEN = 4
"""Known secret values shorter than this are not masked by value (only by rule)."""
OFFLOAD_CHARS = 64 * 1024
"""``aredact`` runs texts at least this long in a worker thread."""

_TOKEN = re.compile(r"\S+")

GENERIC_RULES: tuple[SecretRule, ...] = (
    SecretRule("^ enable secret|password [level] [N] [N] [sha512|sha256|md5] <secret>"),
    SecretRule("^ secret|password [N] [encrypted|sha512|sha256|md5] <secret>"),
    SecretRule("username ... secret|password [N] [encrypted|sha512|sha256|md5] <secret>"),
    SecretRule("snmp-server community <secret>"),
    SecretRule("snmp-server host * [informs|traps] [version] [1|2c|3] [auth|noauth|priv] <secret>"),
    SecretRule("auth md5|sha|sha-*|md5-*|sha* [N] <secret>"),
    SecretRule("priv aes|des|3des|aes*|des* [N] [N] <secret>"),
    SecretRule("^ key N -- text [N] <secret>"),  # show key chain: key 1 -- text "..."
    SecretRule(
        "^ key [N] <secret!chain|config-key|generate|zeroize|import|export|pubkey-chain>",
        id_under=("key chain", "(config-keychain)"),
    ),
    SecretRule("key-string|authentication-key [clear|password|encrypted] [N] <secret>"),
    SecretRule("tacacs-server|radius-server [host] [*] key [N] <secret>"),
    SecretRule("pre-shared-key [ascii-text|hex|hexadecimal] [N] <secret!address|hostname>"),
    SecretRule("pre-shared-key address|hostname * [*] [key] [N] <secret>"),
    SecretRule("encrypted-password [N] <secret>"),
    SecretRule("secret|ascii-text|hexadecimal|simple-password <quoted>"),
    SecretRule("^ passwd <secret>"),
)
"""Rules for every platform: the IOS-family, Junos and ASA lines that carry secrets."""


class Redactor:
    """Masks known secret values and secret-bearing lines; linear in the text length."""

    __slots__ = ("_first", "_key_values", "_needles", "_rules", "_value_keys", "_values", "_wild")

    def __init__(
        self,
        secrets: Iterable[str | None] = (),
        rules: Sequence[SecretRule] = GENERIC_RULES,
        *,
        key_values: bool = False,
    ) -> None:
        self._values: tuple[str, ...] = ()
        self._value_keys: tuple[int, ...] = ()
        self._set_values(secrets)
        compiled = [compile_rule(r) for r in dict.fromkeys(rules)]
        self._rules = tuple(compiled)
        self._key_values = key_values
        first: dict[str, list[Rule]] = {}
        for rule in compiled:
            for word in rule.first:
                first.setdefault(word, []).append(rule)
        self._first = {w: tuple(rs) for w, rs in first.items()}
        self._wild = tuple((w, rs) for w, rs in self._first.items() if "*" in w)
        found = needles_for(compiled, key_values)
        self._needles = None if found is None else Needles(found)

    def __repr__(self) -> str:
        return f"Redactor(<{len(self._values)} secrets hidden>, {len(self._rules)} rules)"

    @property
    def by_line(self) -> bool:
        """Masking a text in runs of whole lines gives what masking it at once does (no
        known value spans lines)."""
        return not any("\n" in v for v in self._values)

    def with_secrets(self, secrets: Iterable[str | None]) -> Redactor:
        """A redactor with the same rules and these extra known values."""
        out = object.__new__(Redactor)  # the rules' needles and automaton are shared
        out._set_values((*self._values, *secrets))
        out._rules, out._first, out._wild = self._rules, self._first, self._wild
        out._key_values, out._needles = self._key_values, self._needles
        return out

    def _set_values(self, secrets: Iterable[str | None]) -> None:
        self._values = tuple(
            sorted({s for s in secrets if s and len(s) >= MIN_SECRET_LEN}, key=len, reverse=True)
        )
        self._value_keys = tuple(rarest(v) for v in self._values)

    def redact(self, text: str) -> str:
        """``text`` with every known secret value and secret-bearing value masked."""
        if not text:
            return text
        for value, k in zip(self._values, self._value_keys, strict=True):
            if contains(text, value, k):
                text = text.replace(value, MASK)
        needles = self._needles
        starts: set[int] = set()
        if needles is not None and needles.folds(text):
            # ASCII: the needles are found case-insensitively in the text as it is, and
            # only the candidate lines (and the headers above them) are lower-cased.
            needles.line_starts_folded(text, starts)
            lowered = None
        else:
            lowered = text.lower()
            if needles is None or len(lowered) != len(text):  # lower() changed lengths: rare
                return self._by_line(text, lowered)
            needles.line_starts(lowered, starts)
        if not starts:
            return text
        blocks = Blocks(text, lowered=False) if lowered is None else Blocks(lowered)
        out: list[str] = []
        pos = 0
        for start in sorted(starts):
            end = text.find("\n", start)
            end = len(text) if end < 0 else end
            line = text[start:end]
            low = line.lower() if lowered is None else lowered[start:end]
            out.append(text[pos:start])
            out.append(self._line(line, low, blocks, start))
            pos = end
        out.append(text[pos:])
        return "".join(out)

    def _by_line(self, text: str, lowered: str) -> str:
        lines = text.split("\n")
        low_lines = lowered.split("\n")
        if len(low_lines) != len(lines):  # lower() changed a line break (never in practice)
            low_lines = [line.lower() for line in lines]
        needles = self._needles
        blocks = Blocks("\n".join(low_lines))
        at = 0
        for i, low in enumerate(low_lines):
            if low and (needles is None or any(n in low for n, _ in needles.needles)):
                lines[i] = self._line(lines[i], low, blocks, at)
            at += len(low) + 1
        return "\n".join(lines)

    async def aredact(self, text: str) -> str:
        """``redact``, in a worker thread for long texts (keeps the event loop free)."""
        if len(text) < OFFLOAD_CHARS:
            return self.redact(text)
        return await asyncio.to_thread(self.redact, text)

    def _line(self, line: str, low: str, blocks: Blocks | None = None, at: int = 0) -> str:
        """``line`` masked; ``blocks`` and ``at`` (its offset there): for ``id_under``."""
        if len(low) != len(line):
            low = "".join(c.lower()[:1] for c in line)
        # Tokens by ``str.split`` (C; the same whitespace as ``_TOKEN``); their offsets
        # only once a token is masked. ``_token_mask`` only where it can mask.
        prefixed = self._key_values or any(p in low for p in TOKEN_PREFIXES)
        tokens = low.split()
        if not tokens or not (prefixed or self._may_start(tokens)):
            return line
        spans = _spans(low) if prefixed else []
        first = self._first
        wild = self._wild
        masks: list[tuple[int, int]] = []
        i = 0
        n = len(tokens)
        while i < n:
            token = tokens[i]
            hit = self._token_mask(line, spans, tokens, i) if prefixed else None
            if hit is None:
                word = _after_prompt(token) if i == 0 else token
                rules = self._candidates(word) if wild else first.get(word, ())
                for rule in rules:
                    if rule.anchored and i != 0:
                        continue
                    end = match_steps(rule.steps, 0, tokens, i + 1)
                    if end is None:
                        continue
                    if not rule.has_ids or not rule.names_an_id(tokens, end, blocks, at):
                        hit = _secret_span(line, spans or _spans(low), end)
                        break
            if hit is None:
                i += 1
                continue
            masks.append(hit[:2])
            i = hit[2]
        if not masks:
            return line
        out: list[str] = []
        pos = 0
        for start, stop in masks:
            if start < pos:
                continue
            out.append(line[pos:start])
            out.append(f'"{MASK}"' if line[start] == '"' and stop - start > 1 else MASK)
            pos = stop
        out.append(line[pos:])
        return "".join(out)

    def _may_start(self, tokens: list[str]) -> bool:
        """Whether a rule can start at one of ``tokens`` (most candidate lines only hold a
        needle inside a longer word, e.g. ``password-encryption``)."""
        first = self._first
        if self._wild:
            return True
        return _after_prompt(tokens[0]) in first or not first.keys().isdisjoint(tokens[1:])

    def _candidates(self, token: str) -> tuple[Rule, ...]:
        exact = self._first.get(token, ())
        if not self._wild:
            return exact
        extra = tuple(r for w, rs in self._wild if word_matches(w, token) for r in rs)
        return exact + extra

    def _token_mask(
        self, line: str, spans: list[tuple[int, int]], tokens: list[str], i: int
    ) -> tuple[int, int, int] | None:
        token = tokens[i]
        bare = token.lstrip("\"'")
        if bare.startswith(TOKEN_PREFIXES):
            return _secret_span(line, spans, i)
        if not self._key_values:
            return None
        cut = _separator(token)
        if cut < 0:
            return None
        key = token[:cut].strip("\"'{(,").rsplit(".", 1)[-1]
        if not any(key.endswith(k) for k in LOG_KEYS):
            return None
        a, b = spans[i]
        value_at = a + cut + 1
        while value_at < b and line[value_at] in "\"' ":
            value_at += 1
        if value_at < b:
            stop = value_at
            while stop < b and line[stop] not in ",;\"'}":
                stop += 1
            return (value_at, stop, i + 1) if stop > value_at else None
        if i + 1 < len(tokens):
            na, nb = spans[i + 1]
            while na < nb and line[na] in "\"'":
                na += 1
            stop = na
            while stop < nb and line[stop] not in ",;\"'}":
                stop += 1
            return (na, stop, i + 2) if stop > na else None
        return None


def _spans(low: str) -> list[tuple[int, int]]:
    """Where each token of a line starts and ends (those of ``low.split()``)."""
    return [m.span() for m in _TOKEN.finditer(low)]


def _after_prompt(token: str) -> str:
    """The command in a first token that carries an echoed prompt (``r1(config)#username``)."""
    cut = max(token.rfind("#"), token.rfind(">"))
    return token[cut + 1 :] if 0 <= cut < len(token) - 1 else token


def _separator(token: str) -> int:
    eq, colon = token.find("="), token.find(":")
    if eq < 0:
        return colon
    if colon < 0:
        return eq
    return min(eq, colon)


def _secret_span(line: str, spans: list[tuple[int, int]], i: int) -> tuple[int, int, int]:
    """(start, stop, next token index) of the value at token ``i`` (quoted or not)."""
    start, stop = spans[i]
    if line[start] == '"':
        close = line.find('"', start + 1)
        stop = len(line) if close < 0 else close + 1
        nxt = i + 1
        while nxt < len(spans) and spans[nxt][0] < stop:
            nxt += 1
        return start, stop, nxt
    while stop - 1 > start and line[stop - 1] in ";,":
        stop -= 1
    return start, stop, i + 1

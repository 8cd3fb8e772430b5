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

Rule patterns are space-separated steps, matched case-insensitively, token by token:

- ``word`` or ``word|other``: a token equal to one of these (``*`` in a word matches
  any run of characters, e.g. ``auth*``);
- ``[word|other]``: an optional such token; ``[N]`` an optional number (the
  encryption type of IOS ``secret 5 ...``);
- ``*``: any one token; ``...``: up to ``GAP_MAX`` tokens (as few as possible);
- ``<secret>``: the value to mask: one token, or a double-quoted string
  (``<secret!chain|config>``: but not when the token is one of these words;
  ``<quoted>``: only a double-quoted string); it is the last step;
- a leading ``^`` anchors the rule at the first token of a line.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from netfleet.core.scan import anchor, line_starts

MASK = "******"
MIN_SECRET_LEN = 4
"""Known secret values shorter than this are not masked by value (only by rule)."""
GAP_MAX = 8
"""The most tokens a ``...`` step skips."""
OFFLOAD_CHARS = 64 * 1024
"""``aredact`` runs texts at least this long in a worker thread."""

_TOKEN = re.compile(r"\S+")
_NUMBER = "N"


@dataclass(frozen=True, slots=True)
class SecretRule:
    """One secret-bearing line shape (see the module docstring for the syntax)."""

    pattern: str


@dataclass(frozen=True, slots=True)
class _Step:
    kind: str  # word | opt | any | gap | secret | quoted
    words: tuple[str, ...] = ()

    def accepts(self, token: str) -> bool:
        if self.kind == "any":
            return True
        if self.kind == "secret":
            return not any(_word_matches(w, token) for w in self.words)
        if self.kind == "quoted":
            return token.startswith('"')
        return any(_word_matches(w, token) for w in self.words)


def _word_matches(word: str, token: str) -> bool:
    if word == _NUMBER:
        return token.isdigit()
    if "*" not in word:
        return token == word
    head, _, tail = word.partition("*")
    return len(token) >= len(head) + len(tail) and token.startswith(head) and token.endswith(tail)


@dataclass(frozen=True, slots=True)
class _Rule:
    anchored: bool
    first: tuple[str, ...]
    steps: tuple[_Step, ...]


def _compile(rule: SecretRule) -> _Rule:
    parts = rule.pattern.split()
    anchored = bool(parts) and parts[0] == "^"
    if anchored:
        parts = parts[1:]
    if not parts or parts[0] in {"*", "..."} or parts[0][:1] in "[<":
        raise ValueError(f"secret rule {rule.pattern!r}: must start with a word")
    steps: list[_Step] = []
    for part in parts[1:]:
        if part == "*":
            steps.append(_Step("any"))
        elif part == "...":
            steps.append(_Step("gap"))
        elif part == "<quoted>":
            steps.append(_Step("quoted"))
        elif part.startswith("<secret") and part.endswith(">"):
            steps.append(_Step("secret", _words(part[len("<secret") : -1].lstrip("!"))))
        elif part.startswith("[") and part.endswith("]"):
            steps.append(_Step("opt", _words(part[1:-1])))
        else:
            steps.append(_Step("word", _words(part)))
    if (
        not steps
        or steps[-1].kind not in {"secret", "quoted"}
        or any(s.kind in {"secret", "quoted"} for s in steps[:-1])
    ):
        raise ValueError(f"secret rule {rule.pattern!r}: needs one <secret>, as the last step")
    return _Rule(anchored, _words(parts[0]), tuple(steps))


def _words(spec: str) -> tuple[str, ...]:
    return tuple(w if w == _NUMBER else w.lower() for w in spec.split("|") if w)


GENERIC_RULES: tuple[SecretRule, ...] = (
    SecretRule("^ enable secret|password [level] [N] [N] [sha512|sha256|md5] <secret>"),
    SecretRule("^ secret|password [N] [encrypted|sha512|sha256|md5] <secret>"),
    SecretRule("username ... secret|password [N] [encrypted|sha512|sha256|md5] <secret>"),
    SecretRule("snmp-server community <secret>"),
    SecretRule("snmp-server host * [informs|traps] [version] [1|2c|3] [auth|noauth|priv] <secret>"),
    SecretRule("auth md5|sha|sha-*|md5-*|sha* [N] <secret>"),
    SecretRule("priv aes|des|3des|aes*|des* [N] [N] <secret>"),
    SecretRule("^ key [N] <secret!chain|config-key|generate|zeroize|import|export|pubkey-chain>"),
    SecretRule("key-string|authentication-key [N] <secret>"),
    SecretRule("tacacs-server|radius-server [host] [*] key [N] <secret>"),
    SecretRule("pre-shared-key [ascii-text|hex|hexadecimal] [N] <secret!address|hostname>"),
    SecretRule("pre-shared-key address|hostname * [*] [key] [N] <secret>"),
    SecretRule("encrypted-password [N] <secret>"),
    SecretRule("secret|ascii-text|hexadecimal|simple-password <quoted>"),
    SecretRule("^ passwd <secret>"),
)
"""Rules for every platform: the IOS-family, Junos and ASA lines that carry secrets."""

LOG_KEYS = ("password", "passwd", "secret", "token", "api_key", "apikey", "passphrase")
"""``key=value`` / ``key: value`` names whose values ``Redactor(key_values=True)`` masks."""

TOKEN_PREFIXES = ("$9$",)
"""Tokens starting with these (Junos reversible ``$9$`` strings) are masked anywhere."""


class Redactor:
    """Masks known secret values and secret-bearing lines; linear in the text length."""

    __slots__ = ("_first", "_key_values", "_needles", "_rules", "_values", "_wild")

    def __init__(
        self,
        secrets: Iterable[str | None] = (),
        rules: Sequence[SecretRule] = GENERIC_RULES,
        *,
        key_values: bool = False,
    ) -> None:
        self._values: tuple[str, ...] = tuple(
            sorted({s for s in secrets if s and len(s) >= MIN_SECRET_LEN}, key=len, reverse=True)
        )
        compiled = [_compile(r) for r in dict.fromkeys(rules)]
        self._rules = tuple(compiled)
        self._key_values = key_values
        first: dict[str, list[_Rule]] = {}
        for rule in compiled:
            for word in rule.first:
                first.setdefault(word, []).append(rule)
        self._first = {w: tuple(rs) for w, rs in first.items()}
        self._wild = tuple((w, rs) for w, rs in self._first.items() if "*" in w)
        found = _needles(compiled, key_values)
        self._needles = None if found is None else tuple((n, anchor(n)) for n in found)

    def __repr__(self) -> str:
        return f"Redactor(<{len(self._values)} secrets hidden>, {len(self._rules)} rules)"

    def with_secrets(self, secrets: Iterable[str | None]) -> Redactor:
        """A redactor with the same rules and these extra known values."""
        out = Redactor((), (), key_values=self._key_values)
        out._values = tuple(
            sorted(
                {*self._values, *(s for s in secrets if s and len(s) >= MIN_SECRET_LEN)},
                key=len,
                reverse=True,
            )
        )
        out._rules, out._first, out._wild = self._rules, self._first, self._wild
        out._needles = self._needles
        return out

    def redact(self, text: str) -> str:
        """``text`` with every known secret value and secret-bearing value masked."""
        if not text:
            return text
        for value in self._values:
            if value in text:
                text = text.replace(value, MASK)
        lowered = text.lower()
        needles = self._needles
        if needles is None or len(lowered) != len(text):  # lower() changed lengths: rare
            return self._by_line(text, lowered)
        starts: set[int] = set()
        for needle, k in needles:
            line_starts(lowered, needle, k, starts)
        if not starts:
            return text
        out: list[str] = []
        pos = 0
        for start in sorted(starts):
            end = lowered.find("\n", start)
            end = len(text) if end < 0 else end
            out.append(text[pos:start])
            out.append(self._line(text[start:end], lowered[start:end]))
            pos = end
        out.append(text[pos:])
        return "".join(out)

    def _by_line(self, text: str, lowered: str) -> str:
        lines = text.split("\n")
        low_lines = lowered.split("\n")
        if len(low_lines) != len(lines):  # lower() changed a line break (never in practice)
            low_lines = [line.lower() for line in lines]
        needles = self._needles
        for i, low in enumerate(low_lines):
            if low and (needles is None or any(n in low for n, _ in needles)):
                lines[i] = self._line(lines[i], low)
        return "\n".join(lines)

    async def aredact(self, text: str) -> str:
        """``redact``, in a worker thread for long texts (keeps the event loop free)."""
        if len(text) < OFFLOAD_CHARS:
            return self.redact(text)
        return await asyncio.to_thread(self.redact, text)

    def _line(self, line: str, low: str) -> str:
        if len(low) != len(line):
            low = "".join(c.lower()[:1] for c in line)
        spans = [(m.start(), m.end()) for m in _TOKEN.finditer(line)]
        tokens = [low[a:b] for a, b in spans]
        masks: list[tuple[int, int]] = []
        i = 0
        n = len(tokens)
        while i < n:
            token = tokens[i]
            hit = self._token_mask(line, spans, tokens, i)
            if hit is None:
                for rule in self._candidates(_after_prompt(token) if i == 0 else token):
                    if rule.anchored and i != 0:
                        continue
                    end = _match(rule.steps, 0, tokens, i + 1)
                    if end is not None:
                        hit = _secret_span(line, spans, end)
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

    def _candidates(self, token: str) -> tuple[_Rule, ...]:
        exact = self._first.get(token, ())
        if not self._wild:
            return exact
        extra = tuple(r for w, rs in self._wild if _word_matches(w, token) for r in rs)
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


def _needles(rules: Sequence[_Rule], key_values: bool) -> tuple[str, ...] | None:
    """Substrings one of which every maskable line contains (None: every line may be).

    Each rule needs one of its required steps (start word or a later required word)
    covered: a step whose every alternative contains a needle. Rules with one usable
    step go first; the others reuse needles already chosen where they can, else add
    their longest-literal step. A line without a needle matches no rule, so it is
    not tokenised.
    """
    found: set[str] = set(TOKEN_PREFIXES)
    if key_values:
        found.update(LOG_KEYS)
    choices: list[list[tuple[str, ...]]] = []
    for rule in rules:
        steps = (rule.first, *(st.words for st in rule.steps if st.kind == "word"))
        usable = [lits for lits in (tuple(_literal(w) for w in ws) for ws in steps) if all(lits)]
        if not usable:
            return None
        choices.append(usable)
    for usable in sorted(choices, key=len):
        if not any(all(any(n in lit for n in found) for lit in lits) for lits in usable):
            found.update(max(usable, key=lambda lits: min(map(len, lits))))
    return tuple(sorted(n for n in found if not any(o != n and o in n for o in found)))


def _literal(word: str) -> str:
    """The longest literal a token equal to ``word`` contains ("" if none)."""
    if word == _NUMBER:
        return ""
    head, _, tail = word.partition("*")
    return max(head, tail, key=len)


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


def _match(steps: tuple[_Step, ...], k: int, tokens: list[str], i: int) -> int | None:
    """Index of the secret token if ``steps[k:]`` match from token ``i``; else None."""
    n = len(tokens)
    while k < len(steps):
        step = steps[k]
        if step.kind in {"secret", "quoted"}:
            return i if i < n and step.accepts(tokens[i]) else None
        if step.kind == "gap":
            for skip in range(min(GAP_MAX, n - i) + 1):
                found = _match(steps, k + 1, tokens, i + skip)
                if found is not None:
                    return found
            return None
        if step.kind == "opt":
            if i < n and step.accepts(tokens[i]):
                found = _match(steps, k + 1, tokens, i + 1)
                if found is not None:
                    return found
            k += 1
            continue
        if i >= n or not step.accepts(tokens[i]):
            return None
        i += 1
        k += 1
    return None


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

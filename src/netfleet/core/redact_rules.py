"""The secret-rule language of ``netfleet.core.redact``: patterns, matching, needles.

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

``SecretRule(pattern, id_under=("key chain", "(config-keychain)"))``: a value that is
the line's last token and a number up to ``ID_MAX`` is an id, not a secret, on a line
inside a block whose header starts with one of these words, or typed at a prompt in
one of the ``(modes)``. In IOS-style configurations a line's block header is the
nearest line above it that is indented less (``Blocks``). So `` key 1`` under
``key chain OSPF`` is kept, while `` key 12345678`` under ``radius server ISE`` (a
shared secret) is masked.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

GAP_MAX = 8
"""The most tokens a ``...`` step skips."""
ID_MAX = 2_147_483_647
"""The largest number ``SecretRule.id_under`` takes for an id (IOS key ids: 0 to 2^31-1)."""
LOG_KEYS = ("password", "passwd", "secret", "token", "api_key", "apikey", "passphrase")
"""``key=value`` / ``key: value`` names whose values ``Redactor(key_values=True)`` masks."""
TOKEN_PREFIXES = ("$9$",)
"""Tokens starting with these (Junos reversible ``$9$`` strings) are masked anywhere."""
_NUMBER = "N"
MERGE_MIN = 5
"""Needles that start alike for at least this many characters are searched as that start."""


@dataclass(frozen=True, slots=True)
class SecretRule:
    """One secret-bearing line shape (see the module docstring for the syntax)."""

    pattern: str
    id_under: tuple[str, ...] = ()
    """Block headers (and ``(prompt modes)``) under which a lone number is an id."""


@dataclass(frozen=True, slots=True)
class _Step:
    kind: str  # word | opt | any | gap | secret | quoted
    words: tuple[str, ...] = ()
    plain: frozenset[str] = field(init=False)
    """The words without ``*`` (a set lookup: a step is tried at every token of a line)."""
    wild: tuple[str, ...] = field(init=False)
    """The words with ``*``, and ``N`` (matched by ``word_matches``)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "plain", frozenset(w for w in self.words if _plain(w)))
        object.__setattr__(self, "wild", tuple(w for w in self.words if not _plain(w)))

    def accepts(self, token: str) -> bool:
        kind = self.kind
        if kind == "any":
            return True
        if kind == "quoted":
            return token.startswith('"')
        hit = token in self.plain or (
            bool(self.wild) and any(word_matches(w, token) for w in self.wild)
        )
        return not hit if kind == "secret" else hit


def _plain(word: str) -> bool:
    return word != _NUMBER and "*" not in word


def word_matches(word: str, token: str) -> bool:
    if word == _NUMBER:
        return token.isdigit()
    if "*" not in word:
        return token == word
    head, _, tail = word.partition("*")
    return len(token) >= len(head) + len(tail) and token.startswith(head) and token.endswith(tail)


@dataclass(frozen=True, slots=True)
class Rule:
    anchored: bool
    first: tuple[str, ...]
    steps: tuple[_Step, ...]
    id_headers: tuple[tuple[str, ...], ...] = ()
    id_modes: tuple[str, ...] = ()
    has_ids: bool = False

    def names_an_id(self, tokens: list[str], value: int, blocks: Blocks | None, at: int) -> bool:
        """Whether ``tokens[value]`` is an id here (see ``SecretRule.id_under``)."""
        token = tokens[value]
        if value != len(tokens) - 1 or not (token.isascii() and token.isdigit()):
            return False
        if len(token) > len(str(ID_MAX)) or int(token) > ID_MAX:
            return False
        first = tokens[0]
        cut = max(first.rfind("#"), first.rfind(">"))
        if cut > 0 and first.find("(") < first.find(")") < cut:  # r1(config-keychain)#key 1
            return first[first.find("(") + 1 : first.find(")")] in self.id_modes
        if blocks is None:
            return False
        header = blocks.header(at).split()
        return any(header[: len(words)] == list(words) for words in self.id_headers)


def compile_rule(rule: SecretRule) -> Rule:
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
    modes = tuple(u.strip("()").lower() for u in rule.id_under if u.startswith("("))
    headers = tuple(tuple(u.lower().split()) for u in rule.id_under if not u.startswith("("))
    headers = tuple(h for h in headers if h)
    return Rule(anchored, _words(parts[0]), tuple(steps), headers, modes, bool(headers or modes))


def _words(spec: str) -> tuple[str, ...]:
    return tuple(w if w == _NUMBER else w.lower() for w in spec.split("|") if w)


def match_steps(steps: tuple[_Step, ...], k: int, tokens: list[str], i: int) -> int | None:
    """Index of the secret token if ``steps[k:]`` match from token ``i``; else None."""
    n = len(tokens)
    while k < len(steps):
        step = steps[k]
        if step.kind in {"secret", "quoted"}:
            return i if i < n and step.accepts(tokens[i]) else None
        if step.kind == "gap":
            for skip in range(min(GAP_MAX, n - i) + 1):
                found = match_steps(steps, k + 1, tokens, i + skip)
                if found is not None:
                    return found
            return None
        if step.kind == "opt":
            if i < n and step.accepts(tokens[i]):
                found = match_steps(steps, k + 1, tokens, i + 1)
                if found is not None:
                    return found
            k += 1
            continue
        if i >= n or not step.accepts(tokens[i]):
            return None
        i += 1
        k += 1
    return None


def needles_for(rules: Sequence[Rule], key_values: bool) -> tuple[str, ...] | None:
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
    for a in sorted(found):  # "passwd" and "password": one scan for "passw" finds both
        for b in sorted(found):
            if a < b and a in found and b in found:
                pairs = enumerate(zip(a, b, strict=False))
                common = next((i for i, (x, y) in pairs if x != y), len(a))
                if common >= MERGE_MIN:
                    found -= {a, b}
                    found.add(a[:common])
    return tuple(sorted(n for n in found if not any(o != n and o in n for o in found)))


def _literal(word: str) -> str:
    """The longest literal a token equal to ``word`` contains ("" if none)."""
    if word == _NUMBER:
        return ""
    head, _, tail = word.partition("*")
    return max(head, tail, key=len)


WALK_MAX = 2000
"""The most lines looked at above a line to find its header; past that, none is known."""


class Blocks:
    """Headers of lines in one (lowercased) text, found by walking up from a line.

    Lines already looked up are remembered with their indent and header, so the lines
    of one block (the keys of a key chain) are walked over once in all, not once per
    line: the cost stays linear in the text."""

    __slots__ = ("_low", "_lowered", "_seen")

    def __init__(self, low: str, *, lowered: bool = True) -> None:
        self._low = low
        self._lowered = lowered
        """``low`` is lower-cased already; otherwise it is ASCII and each line looked at
        is lower-cased (which moves no offset)."""
        self._seen: dict[int, tuple[int, str]] = {}

    def header(self, start: int) -> str:
        """The stripped header line of the line starting at offset ``start`` ("" if the
        line is not indented or no header was found within ``WALK_MAX`` lines)."""
        low = self._low
        end = low.find("\n", start)
        line = low[start : len(low) if end < 0 else end]
        indent = len(line) - len(line.lstrip())
        if indent == 0 or not line.strip():
            return ""
        header = ""
        at = start
        for _ in range(WALK_MAX):
            if at <= 0:
                break
            above = low.rfind("\n", 0, at - 1) + 1
            seen = self._seen.get(above)
            if seen is not None and seen[0] == indent:
                header = seen[1]  # a sibling looked up before: same block
                break
            text = low[above : at - 1]
            stripped = text.lstrip()
            if stripped.strip() and len(text) - len(stripped) < indent:
                header = stripped.strip() if self._lowered else stripped.strip().lower()
                break
            at = above
        self._seen[start] = (indent, header)
        return header

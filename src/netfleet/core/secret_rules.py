"""Secret rules (the patterns ``netfleet.core.redact`` describes): compiled, matched
token by token, and reduced to the needles that find candidate lines."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

GAP_MAX = 8
"""The most tokens a ``...`` step skips."""

NUMBER = "N"
MERGE_MIN = 5
"""Needles that start alike for at least this many characters are searched as that start."""


@dataclass(frozen=True, slots=True)
class SecretRule:
    """One secret-bearing line shape (syntax: the ``netfleet.core.redact`` docstring)."""

    pattern: str


@dataclass(frozen=True, slots=True)
class Step:
    kind: str  # word | opt | any | gap | secret | quoted
    words: tuple[str, ...] = ()

    def accepts(self, token: str) -> bool:
        if self.kind == "any":
            return True
        if self.kind == "secret":
            return not any(word_matches(w, token) for w in self.words)
        if self.kind == "quoted":
            return token.startswith('"')
        return any(word_matches(w, token) for w in self.words)


def word_matches(word: str, token: str) -> bool:
    if word == NUMBER:
        return token.isdigit()
    if "*" not in word:
        return token == word
    head, _, tail = word.partition("*")
    return len(token) >= len(head) + len(tail) and token.startswith(head) and token.endswith(tail)


@dataclass(frozen=True, slots=True)
class Rule:
    anchored: bool
    first: tuple[str, ...]
    steps: tuple[Step, ...]


def compile_rule(rule: SecretRule) -> Rule:
    parts = rule.pattern.split()
    anchored = bool(parts) and parts[0] == "^"
    if anchored:
        parts = parts[1:]
    if not parts or parts[0] in {"*", "..."} or parts[0][:1] in "[<":
        raise ValueError(f"secret rule {rule.pattern!r}: must start with a word")
    steps: list[Step] = []
    for part in parts[1:]:
        if part == "*":
            steps.append(Step("any"))
        elif part == "...":
            steps.append(Step("gap"))
        elif part == "<quoted>":
            steps.append(Step("quoted"))
        elif part.startswith("<secret") and part.endswith(">"):
            steps.append(Step("secret", words(part[len("<secret") : -1].lstrip("!"))))
        elif part.startswith("[") and part.endswith("]"):
            steps.append(Step("opt", words(part[1:-1])))
        else:
            steps.append(Step("word", words(part)))
    if (
        not steps
        or steps[-1].kind not in {"secret", "quoted"}
        or any(s.kind in {"secret", "quoted"} for s in steps[:-1])
    ):
        raise ValueError(f"secret rule {rule.pattern!r}: needs one <secret>, as the last step")
    return Rule(anchored, words(parts[0]), tuple(steps))


def words(spec: str) -> tuple[str, ...]:
    return tuple(w if w == NUMBER else w.lower() for w in spec.split("|") if w)


def needles(rules: Sequence[Rule], extra: Iterable[str]) -> tuple[str, ...] | None:
    """Substrings one of which every maskable line contains (None: every line may be).

    Each rule needs one of its required steps (start word or a later required word)
    covered: a step whose every alternative contains a needle. Rules with one usable
    step go first; the others reuse needles already chosen where they can, else add
    their longest-literal step. A line without a needle matches no rule, so it is
    not tokenised.
    """
    found: set[str] = set(extra)  # needles that must be searched for anyway
    choices: list[list[tuple[str, ...]]] = []
    for rule in rules:
        steps = (rule.first, *(st.words for st in rule.steps if st.kind == "word"))
        usable = [lits for lits in (tuple(literal(w) for w in ws) for ws in steps) if all(lits)]
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


def literal(word: str) -> str:
    """The longest literal a token equal to ``word`` contains ("" if none)."""
    if word == NUMBER:
        return ""
    head, _, tail = word.partition("*")
    return max(head, tail, key=len)


def match_steps(steps: tuple[Step, ...], k: int, tokens: list[str], i: int) -> int | None:
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

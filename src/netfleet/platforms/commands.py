"""Matching commands against a platform's ``privileged_commands`` list.

A rule is words. On ``prefix`` platforms (Cisco, Arista, Junos: the CLI accepts any
unique prefix of a keyword) ``conf[igure]`` matches every word from ``conf`` to
``configure``; a word without brackets must be typed in full. On ``shell`` platforms
(Linux) words are compared as a shell reads them: quotes and backslashes removed, a
leading path dropped from the command name (``/sbin/reboot``), leading ``VAR=value``
assignments skipped. On both, ``mkfs*`` matches any word starting ``mkfs`` and ``*``
any word. Matching ignores case and extra words after the rule's.

A command line is split at the platform's ``command_separators`` (``|`` pipes, ``;``
command lists ...) and every part is checked. A rule whose first word is a separator
(``| red[irect]``, ``>``) applies only to a part that follows that separator.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from netfleet.platforms.spec import PlatformSpec

_ASSIGNMENT = re.compile(r"^[A-Za-z_]\w*=")
_WORD = re.compile(r"^(?:\*|[^\[\]*\s]+\*?|[^\[\]*\s]*\[[^\[\]*\s]+\])$")


class RuleError(ValueError):
    """A malformed ``privileged_commands`` entry."""


@dataclass(frozen=True, slots=True)
class _Word:
    least: str
    """The shortest accepted form (``conf`` of ``conf[igure]``)."""
    full: str
    any_suffix: bool = False

    def matches(self, word: str, prefix: bool) -> bool:
        if self.any_suffix:
            return word.startswith(self.least)
        if prefix:
            return word.startswith(self.least) and self.full.startswith(word)
        return word == self.full


@dataclass(frozen=True, slots=True)
class Rule:
    """One parsed entry of ``privileged_commands``."""

    text: str
    after: str
    """The separator the rule's part must follow ("" = any part)."""
    words: tuple[_Word, ...]


def parse_rule(text: str, separators: str) -> Rule:
    """Parse one entry; ``RuleError`` says what is wrong with it."""
    parts = text.lower().split()
    if not parts:
        raise RuleError("an empty command rule")
    after = ""
    if len(parts[0]) == 1 and parts[0] in separators:
        after = parts.pop(0)
    words = []
    for part in parts:
        if not _WORD.match(part):
            raise RuleError(f"{text!r}: bad word {part!r} (use e.g. conf[igure], mkfs*, *)")
        if part == "*":
            words.append(_Word("", "", any_suffix=True))
        elif part.endswith("*"):
            words.append(_Word(part[:-1], part[:-1], any_suffix=True))
        elif "[" in part:
            least, rest = part.split("[", 1)
            if not least:
                raise RuleError(f"{text!r}: {part!r} needs at least one letter before '['")
            words.append(_Word(least, least + rest.rstrip("]")))
        else:
            words.append(_Word(part, part))
    if not words and not after:
        raise RuleError(f"{text!r}: a rule needs a word")
    return Rule(text=text, after=after, words=tuple(words))


def split_parts(command: str, separators: str) -> list[tuple[str, str]]:
    """(separator before it, text) for each part of ``command``."""
    parts: list[tuple[str, str]] = []
    before, start = "", 0
    for i, ch in enumerate(command):
        if ch in separators:
            parts.append((before, command[start:i]))
            before, start = ch, i + 1
    parts.append((before, command[start:]))
    return parts


def _shell_words(text: str) -> list[str]:
    words = [w.replace("'", "").replace('"', "").replace("\\", "") for w in text.split()]
    while words and _ASSIGNMENT.match(words[0]):
        words.pop(0)
    if words and "/" in words[0]:
        words[0] = words[0].rsplit("/", 1)[1]
    return words


class CommandRules:
    """A platform's privileged-command rules, parsed once."""

    def __init__(self, spec: PlatformSpec) -> None:
        self.platform = spec.name
        self.separators = spec.command_separators
        self.prefix = spec.command_syntax == "prefix"
        self.rules = tuple(parse_rule(r, self.separators) for r in spec.privileged_commands)

    def match(self, command: str) -> str | None:
        """The first rule ``command`` matches (its text), or None."""
        for before, text in split_parts(command.lower(), self.separators):
            words = text.split() if self.prefix else _shell_words(text)
            for rule in self.rules:
                if rule.after and rule.after != before:
                    continue
                if len(words) < len(rule.words):
                    continue
                if all(w.matches(words[i], self.prefix) for i, w in enumerate(rule.words)):
                    return rule.text
        return None

"""The normalisation prefilter: needles are sound, and prefiltering never changes a result
(hypothesis against trying every rule on every line)."""

from __future__ import annotations

import re2
from configs_samples import sample
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netfleet.configs.compress import apply_script, delta_script
from netfleet.configs.needles import literal, needles
from netfleet.configs.normalise import Normaliser, compile_rules, normaliser
from netfleet.configs.rules import BUILTIN_RULES

_CHARS = "ab! :0-.*"
_LINE_CHARS = "ab! :0-.*19\tZ"


def _literal(c: str) -> str:
    return "\\" + c if c in ".*-" else c


atoms = st.recursive(
    st.one_of(
        st.sampled_from(_CHARS).map(_literal),
        st.sampled_from(["\\d", "[ab]", "[0-9]", "[^a]", ".", "\\S", "\\s", "[a-c!]", "\\b"]),
    ),
    lambda inner: st.one_of(
        st.lists(inner, min_size=1, max_size=3).map("".join).map(lambda s: f"(?:{s})"),
        st.lists(inner, min_size=1, max_size=3).map(lambda xs: "(" + "|".join(xs) + ")"),
        st.tuples(inner, st.sampled_from(["?", "*", "+", "{1,2}", "{2}", "??", "{0,1}"])).map(
            lambda t: f"(?:{t[0]}){t[1]}"
        ),
    ),
    max_leaves=6,
)
patterns = st.lists(atoms, min_size=1, max_size=5).map(lambda xs: "^" + "".join(xs))
patterns = st.one_of(
    patterns, st.sampled_from([r.pattern for rs in BUILTIN_RULES.values() for r in rs])
)
lines = st.text(alphabet=_LINE_CHARS, max_size=12)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pattern=patterns, line=lines)
def test_every_matching_line_starts_with_a_needle(pattern: str, line: str) -> None:
    try:
        regex = re2.compile("^(?:" + pattern[1:] + ")")
    except re2.error:
        return
    found = needles(pattern)
    if found is None:
        return
    assert "" not in found
    if regex.match(line) is not None:
        assert line.startswith(found), (pattern, line, found)
    exact = literal(pattern)
    if exact is not None:  # a literal pattern matches exactly the lines starting so
        assert (regex.match(line) is not None) == line.startswith(exact), (pattern, line)


def _text(parts: list[str]) -> str:
    return "\n".join(parts)


texts = st.lists(
    st.one_of(
        lines,
        st.sampled_from(
            [
                "Building configuration...",
                "*10:00:01.5 UTC Mon Jan 1 2024",
                "10:00:01 UTC Mon Jan  1 2024",
                "Current configuration : 1234 bytes",
                "! Last configuration change at 10:00 by admin",
                "! No configuration change since last restart",
                "ntp clock-period 17208144",
                "ntp clock-period x",
                " ntp clock-period 1",
                "Mon Jan  1 10:00:01.123 UTC",
                "## Last commit: 2024-01-01",
                ": Saved",
                "Cryptochecksum:abc 12",
                "",
                "   ",
                "end",
            ]
        ),
    ),
    max_size=30,
).map(_text)


@settings(max_examples=300, deadline=None)
@given(text=texts, platform=st.sampled_from(sorted(BUILTIN_RULES)))
def test_the_prefilter_never_changes_a_builtin_result(text: str, platform: str) -> None:
    rules = normaliser(platform)
    assert rules.normalise(text) == rules.normalise_full(text)


def _valid(rules: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The generated rules whose pattern RE2 compiles."""
    valid = []
    for pattern, action in rules:
        try:
            re2.compile(pattern)
        except re2.error:
            continue
        valid.append((pattern, action))
    return valid


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rules=st.lists(st.tuples(patterns, st.sampled_from(["drop", "mask"])), max_size=4),
    text=texts,
)
def test_the_prefilter_never_changes_a_user_rules_result(
    rules: list[tuple[str, str]], text: str
) -> None:
    compiled = compile_rules("t", _valid(rules))
    assert compiled.normalise(text) == compiled.normalise_full(text)


def test_needles_of_builtin_rules_are_literal_prefixes() -> None:
    assert needles(r"^! Last configuration change at ") == ("! Last configuration change at ",)
    assert needles(r"^ntp clock-period (\d+)$") == tuple(
        f"ntp clock-period {d}" for d in "0123456789"
    )
    assert needles(r"^\*?\d{1,2}:\d{2}") == ("*", *"0123456789")
    assert needles(r"^(?:ab|c)d") == ("abd", "cd")
    assert needles(r"^a|b") == ("a", "b")


def test_patterns_without_a_required_prefix_have_no_needles() -> None:
    for pattern in (r"^(?i)abc", r"^(?:x)?y?", r"^.x", r"^\S+ at", r"^[^a]b", r"^a{,3}", "^"):
        assert needles(pattern) is None, pattern
    # and a rule set with such a rule still works, on every line
    rules = compile_rules("t", [(r"^(?i)UPTIME \d+", "drop")])
    assert rules.scan.every_line
    assert rules.normalise("uptime 5\nhost\n") == "host\n"


def test_samples_give_the_same_text_with_and_without_the_prefilter() -> None:
    for platform, name in (("cisco_ios", "ios_a"), ("cisco_xr", "xr_a"), ("cisco_asa", "asa_a")):
        rules = normaliser(platform)
        assert rules.normalise(sample(name)) == rules.normalise_full(sample(name))


def _edited(rules: Normaliser, base: str, text: str) -> str:
    """``text``'s comparison text made from ``base``'s normalised lines and the delta."""
    _, lines = rules.normalise_lines(base)
    assert lines is not None
    return lines.edited(
        apply_script(lines.outputs(), delta_script(text, base), rules.normalise_line)
    )


@settings(max_examples=300, deadline=None)
@given(base=texts, text=texts, platform=st.sampled_from(sorted(BUILTIN_RULES)))
def test_an_edit_normalised_from_its_base_lines_is_normalised(
    base: str, text: str, platform: str
) -> None:
    rules = normaliser(platform)
    assert rules.normalise_lines(base)[0] == rules.normalise(base)
    assert _edited(rules, base, text) == rules.normalise(text)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rules=st.lists(st.tuples(patterns, st.sampled_from(["drop", "mask"])), max_size=3),
    base=texts,
    text=texts,
)
def test_an_edit_normalised_from_its_base_lines_with_user_rules(
    rules: list[tuple[str, str]], base: str, text: str
) -> None:
    compiled = compile_rules("t", _valid(rules))
    assert _edited(compiled, base, text) == compiled.normalise(text)


def test_a_sample_with_one_line_changed_normalised_from_the_new_lines() -> None:
    for platform, name in (("cisco_ios", "ios_a"), ("cisco_xr", "xr_a"), ("cisco_asa", "asa_a")):
        rules = normaliser(platform)
        old = sample(name)
        new = old.replace("\n", "\nntp server 192.0.2.9\n", 3)
        assert _edited(rules, new, old) == rules.normalise(old)
        assert _edited(rules, old, new) == rules.normalise(new)

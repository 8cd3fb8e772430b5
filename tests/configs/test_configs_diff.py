"""Unified and hierarchical diffs."""

from __future__ import annotations

import difflib

import pytest
from configs_samples import realistic_config, sample
from hypothesis import given, settings
from hypothesis import strategies as st

from netfleet.configs.diff import config_diff, hierarchical_diff, line_counts, unified_diff
from netfleet.configs.hierarchy import parse, render


def test_unified_diff_counts_and_text() -> None:
    old = "a\nb\nc\n"
    new = "a\nB\nc\nd\n"
    diff = unified_diff(old, new, old_name="v1", new_name="v2")
    assert diff.text.startswith("--- v1\n+++ v2\n@@ ")
    assert diff.added == 2
    assert diff.removed == 1
    assert diff.changed
    expected = list(
        difflib.unified_diff(old.splitlines(), new.splitlines(), "v1", "v2", lineterm="")
    )
    assert diff.text == "\n".join(expected) + "\n"
    assert line_counts(old, new) == (2, 1)


def test_equal_texts_give_an_empty_diff() -> None:
    diff = unified_diff("a\r\nb\r\n", "a\nb\n")
    assert (diff.text, diff.added, diff.removed, diff.changed) == ("", 0, 0, False)
    assert hierarchical_diff("a\n b\n", "a\n b\n", "indent").text == ""


def test_lines_starting_with_plus_or_minus_are_counted_once() -> None:
    diff = unified_diff("x\n", "--x\n++y\n")
    assert (diff.added, diff.removed) == (2, 1)


def test_hierarchical_diff_shows_parents_as_context() -> None:
    old = sample("ios_a")
    new = (
        old.replace(" description access", " description uplink")
        .replace(" router-id 10.0.0.1", " router-id 10.0.0.9")
        .replace("line vty 0 4\n login local\n transport input ssh\n", "")
        .replace("ntp server 192.0.2.123\n", "ntp server 192.0.2.123\nntp server 192.0.2.124\n")
    )
    diff = hierarchical_diff(old, new, "indent")
    assert diff.text == (
        "  interface GigabitEthernet0/1\n"
        "-  description access\n"
        "+  description uplink\n"
        "  router ospf 1\n"
        "-  router-id 10.0.0.1\n"
        "+  router-id 10.0.0.9\n"
        "- line vty 0 4\n"
        "-  login local\n"
        "-  transport input ssh\n"
        "+ ntp server 192.0.2.124\n"
    )
    assert (diff.added, diff.removed) == (3, 5)


def test_hierarchical_diff_of_nested_blocks_keeps_every_ancestor() -> None:
    old = "router bgp 1\n address-family ipv4\n  neighbor a activate\n exit-address-family\n"
    new = "router bgp 1\n address-family ipv4\n  neighbor b activate\n exit-address-family\n"
    assert hierarchical_diff(old, new, "indent").text == (
        "  router bgp 1\n   address-family ipv4\n-   neighbor a activate\n+   neighbor b activate\n"
    )


def test_junos_hierarchical_diff() -> None:
    old = sample("junos_a")
    new = old.replace('"to core"', '"to edge"').replace(
        "    host-name mx1;\n", "    host-name mx1;\n    domain-name example.net;\n"
    )
    diff = config_diff(old, new, "juniper_junos", hierarchical=True)
    assert diff.text == (
        "  system {\n"
        "+     domain-name example.net;\n"
        "  interfaces {\n"
        "      ge-0/0/0 {\n"
        '-         description "to core";\n'
        '+         description "to edge";\n'
    )


def test_junos_display_set_is_flat() -> None:
    old = sample("junos_set_a")
    diff = config_diff(old, old.replace('"to core"', '"x"'), "juniper_junos", hierarchical=True)
    assert diff.text == (
        '- set interfaces ge-0/0/0 description "to core"\n'
        '+ set interfaces ge-0/0/0 description "x"\n'
    )


@pytest.mark.parametrize(("platform", "pad"), [("cisco_nxos", "  "), ("arista_eos", "   ")])
def test_hierarchical_diff_uses_the_platforms_indentation(platform: str, pad: str) -> None:
    old = f"interface Ethernet1\n{pad}description a\n"
    diff = config_diff(old, old.replace(" a", " b"), platform, hierarchical=True)
    assert diff.text == f"  interface Ethernet1\n-{pad} description a\n+{pad} description b\n"[
        :0
    ] + (f"  interface Ethernet1\n- {pad}description a\n+ {pad}description b\n")


def test_flat_platforms_and_the_default_use_the_unified_diff() -> None:
    assert config_diff("a\n", "b\n", "linux", hierarchical=True).text.startswith("--- a\n")
    assert config_diff("a\n", "b\n", "cisco_ios").text.startswith("--- a\n")


def test_banner_bodies_are_kept_verbatim() -> None:
    text = "banner motd ^C\n  Authorised\n users only\n^C\nhostname r1\n"
    tree = parse(text, "indent")
    assert [c.text for c in tree.children] == ["banner motd ^C", "hostname r1"]
    assert render(tree, "indent") == [
        "banner motd ^C",
        "  Authorised",
        " users only",
        "^C",
        "hostname r1",
    ]
    new = text.replace("Authorised", "Authorized")
    assert hierarchical_diff(text, new, "indent").text == (
        "  banner motd ^C\n-   Authorised\n+   Authorized\n"
    )


def test_parse_ignores_comments_blank_lines_and_end() -> None:
    tree = parse(sample("ios_a"), "indent")
    texts = [n.text for _, n in tree.walk()]
    assert "end" not in texts
    assert not any(t.startswith("!") for t in texts)
    iface = tree.child("interface GigabitEthernet0/0")
    assert iface is not None
    assert [c.text for c in iface.children][:2] == [
        "description uplink to isp",
        "ip address 192.0.2.1 255.255.255.0",
    ]


def test_junos_parse_and_render_round_trip() -> None:
    text = sample("junos_a")
    tree = parse(text, "braces")
    body = [line for line in text.splitlines() if not line.startswith("#")]
    assert render(tree, "braces") == body


def _difflib(old: str, new: str, context: int = 3) -> str:
    lines = list(
        difflib.unified_diff(old.splitlines(), new.splitlines(), "a", "b", n=context, lineterm="")
    )
    return "\n".join(lines) + "\n" if lines else ""


_REAL = realistic_config(8_000, seed=5).splitlines()
# lines made unique: with repeated lines ("!") around an edit difflib's alignment is a
# heuristic choice (see below), otherwise it is the one minimal diff
_BASE = [f"{line} #{i}" for i, line in enumerate(_REAL)]
_edit = st.tuples(
    st.sampled_from(["insert", "replace", "append"]),
    st.integers(0, len(_BASE) - 1),
    st.integers(0, 10_000),
)


@settings(max_examples=200, deadline=None)
@given(edits=st.lists(_edit, min_size=1, max_size=4), context=st.integers(0, 4))
def test_trimmed_diff_is_difflibs_for_config_edits(
    edits: list[tuple[str, int, int]], context: int
) -> None:
    lines = list(_BASE)
    for k, (op, at, n) in enumerate(edits):  # new lines are new: k makes them unique
        at = min(at, len(lines) - 1)
        if op == "insert":
            lines.insert(at, f"ntp server 192.{k}.2.{n}")
        elif op == "delete":
            lines.pop(at)
        elif op == "replace":
            lines[at] = f"{lines[at]} {k}.{n}"
        else:
            lines[at] = f"{lines[at]}{k}.{n}"
    old, new = "\n".join(_BASE) + "\n", "\n".join(lines) + "\n"
    diff = unified_diff(old, new, context=context)
    assert diff.text == _difflib(old, new, context)
    assert (diff.added, diff.removed) == line_counts(old, new)
    # with the real, repeated lines difflib may align a change with another "!" than
    # the trimmed diff does; that one stays a correct diff
    real = list(_REAL)
    del real[min(edits[0][1], len(real) - 1)]
    real.insert(edits[-1][1] % len(real), "!")
    a, b = "\n".join(_REAL) + "\n", "\n".join(real) + "\n"
    assert _patch(_REAL, unified_diff(a, b, context=context).text) == real


def _patch(old: list[str], diff: str) -> list[str]:
    """Apply a unified diff (as these functions write it) to ``old``."""
    out: list[str] = []
    at = 0
    for line in diff.splitlines()[2:]:
        if line.startswith("@@"):
            start = int(line.split()[1][1:].split(",")[0])
            length = line.split()[1].split(",")
            begin = start - 1 if len(length) == 1 or int(length[1]) else start
            out.extend(old[at:begin])
            at = begin
        elif line.startswith(" "):
            assert old[at] == line[1:]
            out.append(line[1:])
            at += 1
        elif line.startswith("-"):
            assert old[at] == line[1:]
            at += 1
        else:
            out.append(line[1:])
    return out + old[at:]


@settings(max_examples=300, deadline=None)
@given(
    old=st.lists(st.sampled_from("xyz!"), max_size=12),
    new=st.lists(st.sampled_from("xyzw!"), max_size=12),
    context=st.integers(0, 3),
)
def test_trimmed_diff_rebuilds_the_new_text_from_the_old(
    old: list[str], new: list[str], context: int
) -> None:
    a, b = "\n".join(old), "\n".join(new)
    diff = unified_diff(a, b, context=context)
    assert _patch(a.splitlines(), diff.text) == b.splitlines()
    if old == new:
        assert diff.text == ""
    if not (set(old) & set(new)):  # nothing to align: every line changes, as difflib has it
        assert diff.text == _difflib(a, b, context)

"""Every built-in platform's prompt and pager regexes against realistic device text."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from netfleet.platforms import compiled, get_platform, known_platforms, pin_host
from netfleet.platforms.compiled import compile_spec

BUILTINS = [
    "arista_eos",
    "cisco_asa",
    "cisco_ios",
    "cisco_nxos",
    "cisco_xe",
    "cisco_xr",
    "juniper_junos",
    "linux",
]

# (buffer tail, level, host) per platform; the tail often carries earlier output lines.
PROMPTS: dict[str, list[tuple[str, str, str]]] = {
    "cisco_ios": [
        ("R1>", "exec", "R1"),
        ("R1#", "privileged", "R1"),
        ("Building configuration...\n[OK]\ncore-rtr-01.lab#", "privileged", "core-rtr-01.lab"),
        ("R1(config)#", "config", "R1"),
        ("R1(config-if)#", "config", "R1"),
        ("R1(config-router-af)# ", "config", "R1"),
        ("R1(dhcp-config)#", "config", "R1"),
        ("edge_2(config-ext-nacl)#", "config", "edge_2"),
    ],
    "cisco_nxos": [
        ("nx-core-1#", "privileged", "nx-core-1"),
        ("nx-core-1(config)#", "config", "nx-core-1"),
        ("nx-core-1(config-if-range)#", "config", "nx-core-1"),
    ],
    "cisco_xr": [
        ("RP/0/RP0/CPU0:R1#", "privileged", "RP/0/RP0/CPU0:R1"),
        ("Fri Nov 27 03:31:12.345 UTC\nRP/0/RSP0/CPU0:pe-1#", "privileged", "RP/0/RSP0/CPU0:pe-1"),
        ("RP/0/RP0/CPU0:R1(config)#", "config", "RP/0/RP0/CPU0:R1"),
        ("RP/0/RP0/CPU0:R1(config-bgp-nbr-af)#", "config", "RP/0/RP0/CPU0:R1"),
    ],
    "cisco_asa": [
        ("fw1>", "exec", "fw1"),
        ("fw1# ", "privileged", "fw1"),
        ("fw1/admin#", "privileged", "fw1/admin"),
        ("fw1(config)#", "config", "fw1"),
        ("fw1/ctx2(config-network-object)#", "config", "fw1/ctx2"),
    ],
    "arista_eos": [
        ("leaf1>", "exec", "leaf1"),
        ("leaf1#", "privileged", "leaf1"),
        ("leaf1(config)#", "config", "leaf1"),
        ("leaf1(config-if-Et1/1)#", "config", "leaf1"),
        ("leaf1(config-s-sess1)#", "config", "leaf1"),
    ],
    "juniper_junos": [
        ("admin@vmx1> ", "exec", "admin@vmx1"),
        ("\n{master:0}\nadmin@mx-re0.lab> ", "exec", "admin@mx-re0.lab"),
        ("\n[edit]\nadmin@vmx1# ", "config", "admin@vmx1"),
        ("\n[edit interfaces ge-0/0/0]\nadmin@vmx1# ", "config", "admin@vmx1"),
    ],
    "linux": [
        ("ops@web1:~$ ", "exec", "web1"),
        ("ops@web1:/var/log$ ", "exec", "web1"),
        ("[ops@db-2 ~]$ ", "exec", "db-2"),
        ("$ ", "exec", ""),
        ("bash-5.1$ ", "exec", "bash-5.1"),
        ("web1:~$ ", "exec", "web1"),
        ("(venv) ops@web1:~/src$ ", "exec", "web1"),
        ("(base) [ops@db-2 ~]$ ", "exec", "db-2"),
        ("root@web1:~# ", "privileged", "web1"),
        ("[root@db-2 etc]# ", "privileged", "db-2"),
        ("# ", "privileged", ""),
        ("bash-5.1# ", "privileged", "bash-5.1"),
    ],
}
PROMPTS["cisco_xe"] = PROMPTS["cisco_ios"]

# Output lines that are never prompts, on any platform.
NOT_PROMPTS = [
    "Building configuration...",
    "interface GigabitEthernet0/1",
    " description uplink to R1# core",
    " description to R1#  (old)",
    " description uplink to R1#",
    "  remark to admin@vmx1>",
    "access-list 10 remark R1(config)#",
    "R1#show running-config",
    "R1(config)#interface Loopback0",
    "Current configuration : 1234 bytes",
    "!",
    "",
    "ip route 0.0.0.0 0.0.0.0 10.0.0.1",
    "admin@vmx1> show version",
    "ops@web1:~$ ls -l",
    "root@web1:~# cat /etc/hosts",
    "Destination filename [startup-config]?",
    "Password:",
    " --More-- ",
    "R1#\n",  # a prompt-like line that already ended: output continues
    "leaf1#\nshow version",
    "# comment line in a config file\n",
]


def test_all_builtins_registered() -> None:
    assert known_platforms() == BUILTINS


@pytest.mark.parametrize("name", BUILTINS)
def test_spec_is_valid_and_every_regex_compiles(name: str) -> None:
    spec = get_platform(name)
    result = compile_spec(spec)  # raises on any invalid regex or level reference
    assert set(result.prompts) == {level.name for level in spec.levels}
    assert spec.default_level in result.prompts
    assert spec.config_level in result.prompts
    assert spec.textfsm_platform
    assert spec.error_patterns
    assert spec.version_patterns
    for level in spec.levels[1:]:
        assert level.enter, f"{name}: level {level.name} has no enter command"
        assert level.exit, f"{name}: level {level.name} has no exit command"


@pytest.mark.parametrize(
    ("name", "tail", "level", "host"),
    [(name, tail, level, host) for name, cases in PROMPTS.items() for tail, level, host in cases],
)
def test_prompt_matches_its_level(name: str, tail: str, level: str, host: str) -> None:
    c = compiled(name)
    found = c.match_prompt(tail)
    assert found is not None, f"{name}: no prompt in {tail!r}"
    assert (found.level, found.host) == (level, host)
    m = c.any_prompt.search(tail)
    assert m is not None
    assert c.prompt_match(m) == found
    matching = [lv for lv, rx in c.prompts.items() if rx.search(tail)]
    assert matching == [level], f"{name}: {tail!r} matches levels {matching}"


@pytest.mark.parametrize("name", BUILTINS)
@pytest.mark.parametrize("line", NOT_PROMPTS)
def test_prompt_does_not_match_output_lines(name: str, line: str) -> None:
    c = compiled(name)
    assert c.match_prompt(line) is None
    assert not [lv for lv, rx in c.prompts.items() if rx.search(line)]


def test_prompts_distinguish_platform_shapes() -> None:
    assert compiled("cisco_ios").match_prompt("admin@vmx1> ") is None
    assert compiled("juniper_junos").match_prompt("R1#") is None
    assert compiled("cisco_nxos").match_prompt("nx1>") is None  # NX-OS has no exec level


@pytest.mark.parametrize(
    ("name", "host", "own", "other"),
    [
        ("cisco_ios", "R1", "R1(config-if)#", "R10(config-if)#"),
        ("cisco_xr", "RP/0/RP0/CPU0:R1", "RP/0/RP0/CPU0:R1#", "RP/0/RP1/CPU0:R1#"),
        ("juniper_junos", "admin@vmx1", "admin@vmx1# ", "admin@vmx2# "),
        ("linux", "web1", "ops@web1:~$ ", "ops@web2:~$ "),
        ("linux", "bash-5.1", "bash-5.1$ ", "bash-5.2$ "),
    ],
)
def test_pinned_prompt_matches_only_the_learned_host(
    name: str, host: str, own: str, other: str
) -> None:
    pinned = compiled(name).pinned(host)
    found = pinned.match_prompt(own)
    assert found is not None
    assert found.host == host
    assert pinned.match_prompt(other) is None
    assert compiled(name).match_prompt(other) is not None
    assert pinned is compiled(name).pinned(host)  # cached


@pytest.mark.parametrize("host", ["web1", "bash-5.1"])
def test_pinned_linux_prompt_needs_the_host_and_keeps_it_under_sudo(host: str) -> None:
    pinned = compiled("linux").pinned(host)
    for line in ("#", "$", "# ", "$ ", "\n#", "(venv) $ "):
        assert pinned.match_prompt(line) is None, line
    assert pinned.match_prompt("(venv) ops@web1:~$ " if host == "web1" else "bash-5.1# ")


def test_pinned_ios_config_prompt_allows_the_abbreviated_hostname() -> None:
    host = "very-long-hostname-router-01"
    pinned = compiled("cisco_xe").pinned(host)
    assert pinned.match_prompt(f"{host}#") is not None
    found = pinned.match_prompt("very-long-hostname-r(config)#")
    assert found is not None
    assert found.level == "config"
    assert pinned.match_prompt("very-long-hostname-x(config)#") is None
    assert compiled("juniper_junos").pinned("a" * 30 + "@b").match_prompt("a" * 20 + "@b# ") is None


def test_pin_host_escapes_and_keeps_the_rest_of_the_pattern() -> None:
    pattern = r"^(?P<host>[\w.\-(]+(?:/[a-z]+)?)\([\w]+\)#\Z"
    pinned = pin_host(pattern, "r1.lab")
    assert pinned == r"^(?P<host>r1\.lab)\([\w]+\)#\Z"
    assert re.match(pinned, "r1.lab(config)#")
    assert not re.match(pinned, "r1xlab(config)#")
    assert pin_host(r"^\$ \Z", "x") == r"^\$ \Z"  # no host group: unchanged


PAGERS = {
    "cisco_ios": "Gi0/1  up\n --More-- ",
    "cisco_nxos": "Eth1/1  up\n --More--",
    "cisco_xr": "Gi0/0/0/0  Up\n --More-- ",
    "arista_eos": "Et1  up\n --More-- ",
    "cisco_asa": "Interface  IP\n<--- More --->",
    "juniper_junos": "ge-0/0/0  up\n---(more)---",
}


@pytest.mark.parametrize(("name", "tail"), PAGERS.items())
def test_pager_prompt(name: str, tail: str) -> None:
    pager = compiled(name).pager
    assert pager is not None
    assert pager.search(tail)
    assert not pager.search("interface GigabitEthernet0/1\n description more-or-less")


def test_junos_pager_with_percentage() -> None:
    pager = compiled("juniper_junos").pager
    assert pager is not None
    assert pager.search("---(more 42%)---")


def test_ios_save_questions_have_answers() -> None:
    c = compiled("cisco_ios")
    assert c.spec.save_command == "copy running-config startup-config"
    question = "Destination filename [startup-config]? "
    answers = [answer for rx, answer in c.save_confirm if rx.search(question)]
    assert answers == ["\n"]


def test_enable_password_prompt() -> None:
    for name in ("cisco_ios", "cisco_asa", "arista_eos"):
        rx = compiled(name).password_prompts["privileged"]
        assert rx.search("R1>enable\nPassword: ")
        assert not rx.search("R1>enable\nPassword: \nR1#")
    sudo = compiled("linux").password_prompts["privileged"]
    assert sudo.search("ops@web1:~$ sudo -s\n[sudo] password for ops: ")


def test_commit_platforms() -> None:
    junos = get_platform("juniper_junos").commit
    assert junos is not None
    assert (junos.commit, junos.check, junos.rollback, junos.diff) == (
        "commit",
        "commit check",
        "rollback 0",
        "show | compare",
    )
    xr = get_platform("cisco_xr").commit
    assert xr is not None
    assert xr.commit == "commit"
    assert get_platform("cisco_xr").save_command is None
    assert get_platform("juniper_junos").save_command is None
    assert get_platform("cisco_ios").commit is None


def test_exit_with_uncommitted_changes_is_answered() -> None:
    junos = compiled("juniper_junos").exit_confirm["config"]
    question = (
        "The configuration has been changed but not committed\n"
        "Exit with uncommitted changes? [yes,no] (yes) "
    )
    assert [a for rx, a in junos if rx.search(question)] == ["yes\n"]
    xr = compiled("cisco_xr").exit_confirm["config"]
    question = "Uncommitted changes found, commit them before exiting(yes/no/cancel)? [cancel]:"
    assert [a for rx, a in xr if rx.search(question)] == ["no\n"]


# --- property: nothing after the prompt character ---------------------------------

HOSTNAMES = st.from_regex(r"[A-Za-z][A-Za-z0-9\-]{0,15}", fullmatch=True)
TRAILING = st.text(
    alphabet=st.characters(exclude_categories=["Cs"], exclude_characters="\r\n"),
    min_size=1,
    max_size=30,
).filter(lambda s: s.strip() != "")


def _prompt_lines(name: str, host: str) -> list[str]:
    shapes = {
        "juniper_junos": [f"admin@{host}>", f"admin@{host}#"],
        "linux": [f"ops@{host}:~$", f"root@{host}:/etc#", f"[ops@{host} ~]$", "$", "#"],
        "cisco_xr": [f"RP/0/RP0/CPU0:{host}#", f"RP/0/RP0/CPU0:{host}(config)#"],
        "cisco_nxos": [f"{host}#", f"{host}(config)#", f"{host}(config-if)#"],
    }
    return shapes.get(name, [f"{host}>", f"{host}#", f"{host}(config)#", f"{host}(config-if)#"])


@given(host=HOSTNAMES, trailing=TRAILING, name=st.sampled_from(BUILTINS))
def test_prompt_never_matches_with_text_after_the_prompt_char(
    host: str, trailing: str, name: str
) -> None:
    c = compiled(name)
    for prompt_line in _prompt_lines(name, host):
        assert c.match_prompt(prompt_line) is not None, prompt_line
        line = prompt_line + " " + trailing
        assert c.match_prompt(line) is None, line
        assert c.match_prompt(prompt_line + trailing) is None, prompt_line + trailing

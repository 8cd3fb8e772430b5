"""Privileged-command rules: per platform, abbreviations, pipes, shells, user files."""

from __future__ import annotations

from pathlib import Path

import pytest

from netfleet.core.errors import PlatformFileError
from netfleet.platforms import get_platform, load_platform_file
from netfleet.platforms.commands import CommandRules

PRIVILEGED = {
    "cisco_ios": [
        "conf t",
        "config t",
        "configure terminal",
        "configure replace flash:x",
        "wr",
        "wr mem",
        "write memory",
        "write erase",
        "copy run start",
        "copy running-config startup-config",
        "COPY R S",
        "reload",
        "rel in 5",
        "erase startup-config",
        "delete flash:vlan.dat",
        "format flash:",
        "show run | redirect flash:x",
        "show run | tee flash:x",
        "install add file flash:x activate commit",
        "tclsh",
    ],
    "cisco_nxos": [
        "copy r s",
        "conf t ; int e1/1 ; shut",
        "show clock ; conf t",
        "run bash",
        "install all nxos bootflash:x",
        "rollback running-config checkpoint c1",
        "show run > bootflash:x",
    ],
    "cisco_xr": ["configure exclusive", "admin", "commit", "rollback configuration last 1"],
    "arista_eos": ["configure session s1", "bash sudo reboot", "zerotouch cancel"],
    "juniper_junos": [
        "configure",
        "configure private",
        "configure exclusive",
        "co",
        "edit",
        "commit and-quit",
        "request system reboot",
        "req sys reb",
        "request system halt",
        "request system power-off",
        "request system zeroize",
        "request system software add /var/tmp/x.tgz",
        "start shell",
        "st sh",
        "restart routing",
        "show configuration | save /var/tmp/x",
        "file delete /var/tmp/x",
    ],
    "linux": [
        "sudo -s",
        "sudo cat /etc/shadow",
        "su -",
        "reboot",
        "/sbin/shutdown -h now",
        "systemctl reboot",
        "uptime; reboot",
        "uptime && sudo id",
        "echo $(sudo id)",
        "echo `reboot`",
        "FOO=1 reboot",
        "'reboot'",
        "mkfs.ext4 /dev/sdb",
        "bash -c id",
        "vtysh -c 'conf t'",
    ],
}
HARMLESS = {
    "cisco_ios": [
        "show version",
        "show running-config",
        "show run | include hostname",
        "show ip interface brief",
        "terminal length 0",
        "ping 192.0.2.1",
        "dir flash:",
        "show archive",
    ],
    "cisco_nxos": ["show interface brief", "show run | grep hostname"],
    "cisco_xr": ["show configuration commit list", "show install active"],
    "arista_eos": ["show running-config section bgp", "show version | json"],
    "juniper_junos": [
        "show configuration",
        "show interfaces terse",
        "show route",
        "show system commit",
        "show configuration | display set",
        "request support information",
        "ping 192.0.2.1 count 3",
    ],
    "linux": ["uname -a", "cat /etc/os-release", "ip route", "df -h", "ps aux | grep sshd"],
}


@pytest.mark.parametrize("platform", sorted(PRIVILEGED))
def test_privileged_commands_match(platform: str) -> None:
    rules = CommandRules(get_platform(platform))
    for command in PRIVILEGED[platform]:
        assert rules.match(command) is not None, (platform, command)
    for command in HARMLESS[platform]:
        assert rules.match(command) is None, (platform, command)


def test_the_match_names_the_rule() -> None:
    rules = CommandRules(get_platform("juniper_junos"))
    assert rules.match("req sys reb") == "req[uest] sy[stem] r[eboot]"
    assert rules.match("show config | save x") == "| sav[e]"


def test_user_files_extend_or_replace_the_list(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(
        "platforms:\n"
        "  - name: cisco_ios\n"
        "    extra_privileged_commands: ['ev[ent] man[ager] run', 'mkdir']\n"
        "  - name: acme_os\n"
        "    extends: cisco_ios\n"
        "    privileged_commands: ['apply']\n"
        "  - name: tiny\n"
        "    levels: [{name: exec, prompt: '^(?P<host>x)>\\Z'}]\n"
        "    default_level: exec\n"
        "    config_level: exec\n"
    )
    ios, acme, tiny = load_platform_file(path)
    rules = CommandRules(ios)
    assert rules.match("event manager run fix") == "ev[ent] man[ager] run"
    assert rules.match("conf t") == "con[figure]"  # the built-in rules stay
    acme_rules = CommandRules(acme)
    assert acme_rules.match("apply") == "apply"
    assert acme_rules.match("conf t") is None
    # A platform defined from scratch gets the generic list.
    assert CommandRules(tiny).match("configure") == "con[figure]"


@pytest.mark.parametrize(
    ("rule", "problem"),
    [("[x]", "before '['"), ("con[fig", "bad word"), ("", "empty")],
)
def test_bad_rules_name_the_field(tmp_path: Path, rule: str, problem: str) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(f"name: cisco_ios\nextra_privileged_commands: ['{rule}']\n")
    with pytest.raises(PlatformFileError, match=r"privileged_commands\[\d+\]") as info:
        load_platform_file(path)
    assert problem in info.value.message

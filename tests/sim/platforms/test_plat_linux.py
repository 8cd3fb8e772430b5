"""Linux shell engine: commands, root-only changes, reboot semantics, ntc-templates parsing."""

from __future__ import annotations

import json
import re

from tests.support.sim_session import Session, parse, parse_by


def test_prompt_motd_and_basic_commands() -> None:
    s = Session("linux")
    assert s.prompt() == "admin@R1:~$ "
    assert s.engine.paging() is None
    assert s.engine.motd().startswith("Welcome to Ubuntu 22.04.4 LTS")
    assert s.run("hostname") == "R1\n"
    assert s.run("uname -a").startswith("Linux R1 5.15.0-105-generic ")
    assert 'PRETTY_NAME="Ubuntu 22.04.4 LTS"' in s.run("cat /etc/os-release")
    assert re.match(r" \d\d:\d\d:\d\d up 10 days, ", s.run("uptime"))
    assert s.run("foo --bar") == "bash: foo: command not found\n"
    assert s.run("echo $?") == "127\n"
    assert s.run("cat /nope") == "cat: /nope: No such file or directory\n"
    s.run("logout")
    assert s.closed


def test_root_only_changes_and_reboot() -> None:
    s = Session("linux")
    assert s.run("hostname web-1") == "hostname: you must be root to change the host name\n"
    assert s.run("sudo hostname web-1") == ""
    assert s.prompt() == "admin@web-1:~$ "
    assert (
        s.run("ip addr add 10.9.9.9/24 dev eth1") == "RTNETLINK answers: Operation not permitted\n"
    )
    s.run("sudo ip addr add 10.9.9.9/24 dev eth1")
    assert "inet 10.9.9.9/24 brd 10.9.9.255 scope global eth1" in s.run("ip addr")
    s.run("echo nameserver 10.0.0.53 > resolv.conf")
    s.run("echo search example.net >> resolv.conf")
    assert s.run("cat ~/resolv.conf") == "nameserver 10.0.0.53\nsearch example.net\n"
    data = json.loads(json.dumps(s.state.to_json()))
    restored = s.platform.load_state(data)
    restored.reboot()
    again = Session("linux", state=restored)
    assert again.run("hostname") == "R1\n"
    assert "10.9.9.9" not in again.run("ip addr")
    assert again.run("cat resolv.conf") == "nameserver 10.0.0.53\nsearch example.net\n"
    again.run("sudo hostnamectl set-hostname db-2")
    restored.reboot()
    assert Session("linux", state=restored).run("hostname") == "db-2\n"


def test_root_shell() -> None:
    s = Session("linux")
    assert s.run("sudo -i") == ""
    assert s.prompt() == "root@R1:~# "
    assert s.run("whoami") == "root\n"
    assert s.run("hostname core-9") == ""
    assert s.run("exit") == "exit\n"
    assert not s.closed
    assert s.prompt() == "admin@core-9:~$ "


def test_ip_commands_parse() -> None:
    s = Session("linux")
    rows = parse_by("linux", "ip address show", s.run("ip address show"), key="interface")
    assert rows["eth0"]["ip_addresses"] == ["10.0.1.8"]
    assert rows["eth0"]["ip_masks"] == ["8"]
    assert rows["lo"]["ip_addresses"] == ["127.0.0.1"]
    assert rows["eth1"]["state"] == "UP"
    assert rows["eth0"]["mac_address"] != rows["eth1"]["mac_address"]
    links = parse_by("linux", "ip link show", s.run("ip link show"), key="interface")
    assert links["eth0"]["mac_address"] == rows["eth0"]["mac_address"]
    routes = parse("linux", "ip route show", s.run("ip route show"))
    assert routes[0]["network"] == "default"
    assert routes[0]["nexthop_ip"] == "10.0.0.254"
    assert {"network": "10.0.0.0/8", "src": "10.0.1.8"}.items() <= routes[1].items()

"""Configuration-text benchmark: prediction, normalisation, diffs, templates, storage bytes.

A generated, realistic 50 KB IOS configuration (access and uplink interfaces, ACLs,
prefix lists, route maps, BGP, AAA, SNMP, lines, banner). Each timing is the median of
several rounds, printed with its ratio to a baseline measured in the same run: a plain
``difflib.unified_diff`` of the same text with one line changed (what any backup tool
does per device).

    .venv/bin/python benchmarks/configs.py            # full (about a minute)
    .venv/bin/python benchmarks/configs.py --smoke    # a few seconds (CI)
"""

from __future__ import annotations

import argparse
import difflib
import random
import statistics
import time
from collections.abc import Callable

from netfleet.configs.compress import CHECKPOINT_EVERY, pack_delta, pack_full
from netfleet.configs.diff import hierarchical_diff, unified_diff
from netfleet.configs.normalise import config_sha256, normalise
from netfleet.configs.predict import predict
from netfleet.configs.sanity import prepare_config
from netfleet.configs.templates import ConfigTemplate, TemplateTarget

CHANGE_INDENTED = """\
interface GigabitEthernet1/0/7
 description uplink to dist-2 port 7
 switchport access vlan 210
interface Loopback10
 ip address 10.255.0.10 255.255.255.255
ntp server 192.0.2.124
logging host 192.0.2.50
router bgp 65010
 neighbor 10.255.1.2 remote-as 65020
no ip http server
"""
TEMPLATE = """\
interface {{ vars.uplink }}
 description uplink to {{ vars.peer }} port {{ vars.port }}
 switchport access vlan {{ vars.vlan }}
interface Loopback10
 ip address {{ vars.loopback }} 255.255.255.255
{% for server in vars.ntp %}
ntp server {{ server }}
{% endfor %}
logging host {{ vars.syslog }}
router bgp {{ vars.asn }}
 neighbor {{ vars.neighbor }} remote-as {{ vars.peer_asn }}
no ip http server
"""
TEMPLATE_VARS = {
    "uplink": "GigabitEthernet1/0/7",
    "peer": "dist-2",
    "port": 7,
    "vlan": 210,
    "loopback": "10.255.0.10",
    "ntp": ["192.0.2.124"],
    "syslog": "192.0.2.50",
    "asn": 65010,
    "neighbor": "10.255.1.2",
    "peer_asn": 65020,
}
CHANGE_TYPED = "\n".join(line.strip() for line in CHANGE_INDENTED.splitlines()) + "\n"


def make_config(target: int = 50_000, seed: int = 7) -> str:
    """A realistic IOS ``show running-config`` of about ``target`` bytes."""
    rnd = random.Random(seed)
    words = ["floor", "rack", "printer", "ap", "camera", "desk", "lab", "voice", "door", "hvac"]
    head = [
        "Building configuration...",
        "",
        f"Current configuration : {target} bytes",
        "!",
        "! Last configuration change at 21:14:05 UTC Mon Nov 30 2026 by admin",
        "! NVRAM config last updated at 21:15:00 UTC Mon Nov 30 2026 by admin",
        "!",
        "version 17.9",
        "service timestamps debug datetime msec localtime show-timezone",
        "service timestamps log datetime msec localtime show-timezone",
        "service password-encryption",
        "!",
        "hostname edge-r1",
        "!",
        "aaa new-model",
        "aaa authentication login default group tacacs+ local",
        "aaa authorization exec default group tacacs+ local",
        "!",
        "ip domain name example.net",
        "ip name-server 192.0.2.53 192.0.2.54",
        "!",
    ]
    body: list[str] = []
    n = 0
    size = sum(len(x) + 1 for x in head)
    while size < target - 1500:
        n += 1
        vlan = 100 + rnd.randrange(60)
        block = [
            f"interface GigabitEthernet1/0/{n}",
            f" description {rnd.choice(words)} {rnd.randrange(1, 400)} {rnd.choice(words)}",
            f" switchport access vlan {vlan}",
            " switchport mode access",
            f" switchport voice vlan {vlan + 100}" if rnd.random() < 0.3 else " no cdp enable",
            " spanning-tree portfast",
            " spanning-tree bpduguard enable",
            f" ip access-group ACL-{rnd.randrange(12)} in" if rnd.random() < 0.4 else " no shut",
            "!",
        ]
        if n % 9 == 0:
            block += [f"ip access-list extended ACL-{n}"]
            for k in range(rnd.randrange(3, 9)):
                a, b = rnd.randrange(1, 254), rnd.randrange(1, 254)
                block.append(f" {k * 10 + 10} permit tcp 10.{a}.{b}.0 0.0.0.255 any eq 443")
            block += [" 1000 deny ip any any log", "!"]
        if n % 17 == 0:
            block += [
                f"ip prefix-list PL-{n} seq 5 permit 10.{n % 250}.0.0/16 le 24",
                f"route-map RM-{n} permit 10",
                f" match ip address prefix-list PL-{n}",
                f" set local-preference {rnd.randrange(100, 300)}",
                "!",
            ]
        body += block
        size += sum(len(x) + 1 for x in block)
    tail = [
        "router bgp 65010",
        " bgp router-id 10.255.0.1",
        " neighbor 10.255.1.1 remote-as 65000",
        " address-family ipv4",
        "  neighbor 10.255.1.1 activate",
        " exit-address-family",
        "!",
        "ntp clock-period 17208144",
        "ntp server 192.0.2.123",
        "snmp-server community <removed> RO",
        "snmp-server location building 4",
        "!",
        "banner motd ^C",
        "Authorised access only.",
        "^C",
        "!",
        "line con 0",
        " exec-timeout 5 0",
        "line vty 0 4",
        " login local",
        " transport input ssh",
        "!",
        "end",
        "",
    ]
    return "\n".join(head + body + tail) + "\n"


def one_line_changed(text: str) -> str:
    """``text`` with one interface description changed."""
    at = text.index(" description ", len(text) // 2)
    end = text.index("\n", at)
    return text[:at] + " description changed by the benchmark" + text[end:]


def timed(fn: Callable[[], object], rounds: int) -> float:
    """Median seconds of ``fn`` over ``rounds`` rounds (after one warm-up call)."""
    fn()
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="few rounds (a few seconds)")
    args = parser.parse_args()
    rounds = 15 if args.smoke else 300
    text = make_config()
    changed = one_line_changed(text)
    a_lines, b_lines = text.splitlines(), changed.splitlines()
    norm_a, norm_b = normalise(text, "cisco_ios"), normalise(changed, "cisco_ios")
    print(f"config: {len(text.encode())} bytes, {len(a_lines)} lines; {rounds} rounds each")

    template = ConfigTemplate(TEMPLATE)
    target = TemplateTarget("edge-r1", "192.0.2.1", "cisco_ios", ("edge",), (), TEMPLATE_VARS)

    def render_and_predict() -> object:
        return predict(text, template.render(target), "cisco_ios")

    base = timed(lambda: list(difflib.unified_diff(a_lines, b_lines, lineterm="")), rounds)
    cases: list[tuple[str, Callable[[], object], float | None]] = [
        ("predict, 10 lines indented", lambda: predict(text, CHANGE_INDENTED, "cisco_ios"), 2e-3),
        ("predict, 10 lines typed", lambda: predict(text, CHANGE_TYPED, "cisco_ios"), 2e-3),
        ("template render", lambda: template.render(target), None),
        ("render + predict", render_and_predict, 2e-3),
        ("normalise + sha256", lambda: config_sha256(normalise(text, "cisco_ios")), None),
        ("check + normalise + sha256", lambda: prepare_config(text, "cisco_ios"), None),
        ("unified_diff (ours)", lambda: unified_diff(norm_a, norm_b), None),
        ("hierarchical_diff", lambda: hierarchical_diff(norm_a, norm_b, "indent"), None),
    ]
    print(f"\n{'per device':32} {'ms':>9} {'vs difflib':>11} {'aim':>8}")
    print(f"{'difflib.unified_diff (baseline)':32} {base * 1e3:9.3f} {1.0:11.2f}")
    for name, fn, aim in cases:
        took = timed(fn, rounds)
        verdict = (
            ""
            if aim is None
            else (f"<= {aim * 1e3:.0f} ms" + (" ok" if took <= aim else " MISSED"))
        )
        print(f"{name:32} {took * 1e3:9.3f} {took / base:11.2f} {verdict:>8}")
    report_bytes(text, changed)


def report_bytes(text: str, changed: str) -> None:
    """Bytes stored per version, and for 10,000 devices x 100 versions."""
    raw = len(text.encode())
    full = len(pack_full(text))
    delta = len(pack_delta(text, changed))
    print(f"\n{'stored bytes per version':32} {'bytes':>9} {'vs raw':>11} {'aim':>8}")
    print(f"{'raw text (baseline)':32} {raw:9d} {1.0:11.3f}")
    print(f"{'zlib full text':32} {full:9d} {full / raw:11.3f}")
    verdict = "<= 2 KB " + ("ok" if delta <= 2048 else "MISSED")
    print(f"{'one line changed (delta)':32} {delta:9d} {delta / raw:11.4f} {verdict}")
    print(f"{'no change (no new version)':32} {0:9d} {0.0:11.3f}")
    versions, devices = 100, 10_000
    fulls = -(-versions // CHECKPOINT_EVERY)
    per_device = fulls * full + (versions - fulls) * delta
    print(
        f"10,000 devices x 100 one-line versions: {devices * per_device / 1e9:.2f} GB "
        f"(full zlib texts: {devices * versions * full / 1e9:.2f} GB, "
        f"raw: {devices * versions * raw / 1e9:.1f} GB)"
    )


if __name__ == "__main__":
    main()

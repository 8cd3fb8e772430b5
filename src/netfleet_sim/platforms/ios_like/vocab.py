"""Configuration-mode keywords of IOS-like CLIs, for abbreviation and error handling.

A vocabulary maps a keyword to either the minimum number of value words that
must follow it (an ``int``) or to a nested vocabulary. In a nested vocabulary
the key ``""`` says how many value words are needed when the line stops there;
without it the line is incomplete.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union

from netfleet_sim.platforms.cmdtree import Ambiguous, resolve_keyword, tokenize

Vocab = dict[str, Union[int, "Vocab"]]

GLOBAL: Vocab = {
    "hostname": 1,
    "interface": 1,
    "vlan": 1,
    "line": 1,
    "router": {"ospf": 1, "bgp": 1, "eigrp": 1, "rip": 0, "isis": 0},
    "ip": {
        "route": 3,
        "domain-name": 1,
        "domain": {"name": 1, "lookup": 0, "list": 1},
        "name-server": 1,
        "access-list": {"extended": 1, "standard": 1},
        "http": {"server": 0, "secure-server": 0, "authentication": 1},
        "ssh": 1,
        "default-gateway": 1,
        "routing": 0,
        "vrf": 1,
        "dhcp": 1,
        "ftp": 1,
        "tftp": 1,
        "scp": 1,
        "cef": 0,
        "multicast-routing": 0,
        "forward-protocol": 1,
        "prefix-list": 1,
        "community-list": 1,
        "as-path": 1,
        "sla": 1,
        "igmp": 1,
    },
    "ipv6": {"route": 2, "unicast-routing": 0, "access-list": 1},
    "ntp": {"server": 1, "source": 1, "peer": 1, "authenticate": 0, "master": 0, "logging": 0},
    "logging": {
        "": 1,
        "host": 1,
        "buffered": 0,
        "console": 0,
        "monitor": 0,
        "trap": 1,
        "source-interface": 1,
        "facility": 1,
        "on": 0,
    },
    "username": 1,
    "enable": {"secret": 1, "password": 1},
    "snmp-server": {
        "community": 1,
        "location": 1,
        "contact": 1,
        "host": 1,
        "enable": 0,
        "user": 1,
        "group": 1,
        "trap-source": 1,
        "ifindex": 1,
    },
    "banner": {"motd": 1, "login": 1, "exec": 1},
    "service": 1,
    "access-list": 2,
    "clock": {"timezone": 1, "summer-time": 1},
    "aaa": 1,
    "vtp": {"mode": 1, "domain": 1, "version": 1},
    "spanning-tree": 1,
    "boot": 1,
    "crypto": 1,
    "archive": 0,
    "cdp": 1,
    "lldp": 1,
    "vrf": 1,
    "errdisable": 1,
    "alias": 2,
    "control-plane": 0,
    "class-map": 1,
    "policy-map": 1,
    "route-map": 1,
    "key": 1,
    "mac": 1,
    "monitor": 1,
    "privilege": 1,
    "track": 1,
    "tacacs-server": 1,
    "radius-server": 1,
    "license": 1,
    "redundancy": 0,
    "udld": 1,
    "login": 1,
    "security": 1,
    "system": 1,
    "port-channel": 1,
    "power": 1,
    "file": 1,
    "call-home": 0,
    "diagnostic": 1,
    "memory": 1,
    "default": 1,
}

INTERFACE: Vocab = {
    "description": 1,
    "ip": {
        "address": 1,
        "helper-address": 1,
        "vrf": {"forwarding": 1},
        "ospf": 1,
        "access-group": 2,
        "mtu": 1,
        "redirects": 0,
        "unreachables": 0,
        "proxy-arp": 0,
        "nat": 1,
        "pim": 1,
        "route-cache": 0,
        "dhcp": 1,
        "flow": 1,
    },
    "ipv6": {"address": 1, "enable": 0, "nd": 1},
    "shutdown": 0,
    "switchport": {
        "": 0,
        # The modes of IOS, NX-OS and EOS together (each documents a subset).
        "mode": {
            "access": 0,
            "trunk": 0,
            "dot1q-tunnel": 0,
            "dynamic": {"auto": 0, "desirable": 0},
            "private-vlan": 1,
            "fex-fabric": 0,
            "fabricpath": 0,
            "tap": 0,
            "tool": 0,
        },
        "access": {"vlan": 1},
        "trunk": {
            "allowed": {"vlan": 1},
            "native": {"vlan": 1},
            "encapsulation": {"dot1q": 0, "isl": 0, "negotiate": 0},
        },
        "nonegotiate": 0,
        "voice": {"vlan": 1},
        "port-security": 0,
    },
    "speed": 1,
    "duplex": {"auto": 0, "full": 0, "half": 0},
    "mtu": 1,
    "channel-group": 1,
    "spanning-tree": 1,
    "standby": 1,
    "vrf": 1,
    "encapsulation": 1,
    "negotiation": 1,
    "bandwidth": 1,
    "load-interval": 1,
    "cdp": 1,
    "lldp": 1,
    "service-policy": 2,
    "media-type": 1,
    "power": 1,
    "storm-control": 1,
    "udld": 1,
    "keepalive": 0,
    "delay": 1,
    "logging": 1,
    "carrier-delay": 1,
    "authentication": 1,
    "dot1x": 1,
    "mab": 0,
    "tunnel": 1,
    "no": 0,
}

ROUTER_OSPF: Vocab = {
    "area": 2,
    "auto-cost": 0,
    "bfd": 1,
    "capability": 1,
    "compatible": 1,
    "default-information": 1,
    "default-metric": 1,
    "discard-route": 0,
    "distance": 1,
    "distribute-list": 1,
    "domain-id": 1,
    "domain-tag": 1,
    "event-log": 0,
    "fast-reroute": 1,
    "graceful-restart": 0,
    "ignore": 1,
    "ispf": 0,
    "limit": 1,
    "log-adjacency-changes": 0,
    "max-lsa": 1,
    "max-metric": 1,
    "maximum-paths": 1,
    "mpls": 1,
    "neighbor": 1,
    "network": 4,
    "nsf": 0,
    "nsr": 0,
    "passive-interface": 1,
    "prefix-suppression": 0,
    "redistribute": 1,
    "router-id": 1,
    "shutdown": 0,
    "summary-address": 1,
    "timers": 1,
    "traffic-share": 1,
    "ttl-security": 1,
}

ROUTER_BGP: Vocab = {
    "address-family": 1,
    "aggregate-address": 1,
    "auto-summary": 0,
    "bgp": 1,
    "bmp": 1,
    "default-information": 1,
    "default-metric": 1,
    "distance": 1,
    "distribute-list": 1,
    "exit-address-family": 0,
    "import": 1,
    "maximum-paths": 1,
    "neighbor": 2,
    "network": 1,
    "redistribute": 1,
    "synchronization": 0,
    "table-map": 1,
    "template": 1,
    "timers": 1,
}

ROUTER_EIGRP: Vocab = {  # classic (router eigrp 100) and named mode's flattened levels
    "address-family": 1,
    "af-interface": 1,
    "authentication": 1,
    "auto-summary": 0,
    "bandwidth-percent": 1,
    "exit-address-family": 0,
    "exit-af-interface": 0,
    "exit-af-topology": 0,
    "hello-interval": 1,
    "hold-time": 1,
    "next-hop-self": 0,
    "shutdown": 0,
    "split-horizon": 0,
    "stub": 0,
    "stub-site": 1,
    "summary-address": 1,
    "topology": 1,
    "default-metric": 1,
    "distance": 1,
    "distribute-list": 1,
    "eigrp": 1,
    "maximum-paths": 1,
    "metric": 1,
    "neighbor": 2,
    "network": 1,
    "offset-list": 1,
    "passive-interface": 0,  # alone under af-interface (named mode)
    "redistribute": 1,
    "summary-metric": 1,
    "timers": 1,
    "traffic-share": 1,
    "variance": 1,
}

ROUTER: dict[str, Vocab] = {"ospf": ROUTER_OSPF, "bgp": ROUTER_BGP, "eigrp": ROUTER_EIGRP}
"""IOS and IOS-XE router configuration modes, by routing protocol (``router ospf 1``)."""

VLAN: Vocab = {"name": 1, "state": 1, "shutdown": 0, "mtu": 1, "remote-span": 0}

LINE: Vocab = {
    "exec-timeout": 1,
    "password": 1,
    "login": 0,
    "transport": {"input": 1, "output": 1, "preferred": 1},
    "logging": 1,
    "privilege": 1,
    "length": 1,
    "width": 1,
    "access-class": 2,
    "stopbits": 1,
    "session-timeout": 1,
    "history": 0,
    "speed": 1,
    "exec": 0,
    "no": 0,
}


@dataclass(frozen=True, slots=True)
class Expanded:
    """A line with its keywords expanded (``int desc x`` -> ``interface description x``)."""

    words: tuple[str, ...]
    keyword_count: int


@dataclass(frozen=True, slots=True)
class VocabError:
    """``kind`` is ``invalid``, ``ambiguous`` or ``incomplete``; ``column`` locates the word."""

    kind: str
    column: int


def expand(line: str, vocab: Vocab | None) -> Expanded | VocabError:
    """Expand the keywords of ``line`` against ``vocab`` (``None`` accepts anything)."""
    tokens = tokenize(line)
    if vocab is None:
        return Expanded(tuple(w for _, w in tokens), 0)
    words: list[str] = []
    node: Vocab | int = vocab
    count = 0
    for column, word in tokens:
        if not isinstance(node, dict):
            words.append(word)
            continue
        keys = [k for k in node if k]
        hit = resolve_keyword(word, keys)
        if isinstance(hit, Ambiguous):
            return VocabError("ambiguous", column)
        if hit is None:
            if count == 0 or "" not in node:
                return VocabError("invalid", column)
            node = 0
            words.append(word)
            continue
        words.append(hit)
        count += 1
        node = node[hit]
    needed = node if isinstance(node, int) else node.get("")
    if needed is None:
        return VocabError("incomplete", len(line))
    if isinstance(needed, dict) or len(words) - count < needed:
        return VocabError("incomplete", len(line))
    return Expanded(tuple(words), count)

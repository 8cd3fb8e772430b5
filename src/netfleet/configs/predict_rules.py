"""Data for predicting an IOS-like change: which commands enter sub-modes, which are
global, and which set a single value that a new line replaces.

Patterns are matched against one line without its indentation (and, for replacement,
without a leading ``no``); they are our own data, compiled once. Lines typed with
indentation never need the mode data: indentation says where a line goes.
"""

from __future__ import annotations

import re

TOP_MODES = re.compile(
    r"(?:interface|router|line|vlan \d|ip access-list|ipv6 access-list|mac access-list"
    r"|class-map|policy-map|route-map|key chain|ip dhcp pool|ip vrf|vrf definition"
    r"|vrf context|vrf instance|aaa group server|control-plane|crypto isakmp policy"
    r"|crypto ikev2|crypto ipsec profile|crypto pki trustpoint|crypto map \S+ \d+"
    r"|object network|object service|object-group|tunnel-group \S+ \S+-attributes"
    r"|group-policy \S+ attributes|spanning-tree mst configuration|management"
    r"|ip sla \d|track \d|monitor session|ip prefix-list \S+ seq|archive|redundancy"
    r"|snmp-server view|daemon|event-handler|ntp|feature-set|port-channel \d"
    r"|flow (?:exporter|monitor|record)|telemetry|username \S+ (?:ssh|sshkey)\b)(?:\s|$)"
)
"""Commands that enter a sub-mode from global configuration mode.

``ntp`` alone (EOS/NX-OS style blocks) only enters a mode when typed without arguments;
see ``enters_mode``."""

NESTED_MODES: dict[str, re.Pattern[str]] = {
    "router": re.compile(
        r"(?:address-family|vrf \S+$|neighbor \S+$|template peer"
        r"|af-interface|topology)(?:\s|$)"
    ),
    "vrf": re.compile(r"address-family(?:\s|$)"),
    "policy-map": re.compile(r"class(?:\s|$)"),
    "crypto": re.compile(r"(?:proposal|keyring|peer|profile)(?:\s|$)"),
    "interface": re.compile(r"(?:service instance|service-policy type control)(?:\s|$)"),
}
"""Per parent kind (the parent line's first word), commands that enter a nested mode."""

EXITS = (
    "exit",
    "exit-address-family",
    "exit-af-interface",
    "exit-peer-policy",
    "exit-peer-session",
    "exit-service-instance",
    "exit-vrf",
    "quit",
)
"""Lines that leave the current sub-mode."""

TOP_COMMANDS = re.compile(
    r"(?:hostname|ip route|ipv6 route|ip domain|ip name-server|ip ssh|ip http|ip scp"
    r"|ip ftp|ip tftp|ip default-gateway|ip routing|ipv6 unicast-routing|ntp server"
    r"|ntp peer|ntp source|ntp authenticate|logging host|logging buffered|logging trap"
    r"|logging source-interface|logging server|snmp-server|username|enable|aaa"
    r"|banner|clock|service|boot|access-list|spanning-tree mode|vtp|feature|tacacs-server"
    r"|radius-server|tacacs server|radius server|errdisable|cdp run|lldp run|license"
    r"|crypto key|mpls ldp router-id|alias|terminal|end|copy|write)(?:\s|$)"
)
"""Global commands: typed in a sub-mode, IOS leaves the sub-mode and runs them globally."""

SINGLE_VALUED: tuple[re.Pattern[str], ...] = tuple(
    re.compile(p)
    for p in (
        r"hostname(?:\s|$)",
        r"description(?:\s|$)",
        r"ip address(?!.* secondary$)(?:\s|$)",
        r"ip vrf forwarding(?:\s|$)",
        r"vrf (?:forwarding|member)(?:\s|$)",
        r"switchport mode(?:\s|$)",
        r"switchport access vlan(?:\s|$)",
        r"switchport trunk native vlan(?:\s|$)",
        r"switchport trunk allowed vlan(?! (?:add|remove|except) )(?:\s|$)",
        r"(?:ip |ipv6 )?mtu(?:\s|$)",
        r"speed(?:\s|$)",
        r"duplex(?:\s|$)",
        r"bandwidth(?:\s|$)",
        r"encapsulation(?:\s|$)",
        r"channel-group(?:\s|$)",
        r"(?:bgp )?router-id(?:\s|$)",
        r"ip domain[- ]name(?:\s|$)",
        r"domain-name(?:\s|$)",
        r"enable (?:secret|password)(?:\s|$)",
        r"clock timezone(?:\s|$)",
        r"banner (motd|login|exec|incoming)(?:\s|$)",
        r"spanning-tree mode(?:\s|$)",
        r"logging buffered(?:\s|$)",
        r"nameif(?:\s|$)",
        r"security-level(?:\s|$)",
        r"ip ospf cost(?:\s|$)",
        r"ip ospf (?:hello|dead)-interval(?:\s|$)",
        r"snmp-server (location|contact)(?:\s|$)",
        r"ntp source(?:\s|$)",
        r"ip ssh version(?:\s|$)",
        r"exec-timeout(?:\s|$)",
        r"transport input(?:\s|$)",
        r"username (\S+)(?:\s|$)",
        r"neighbor (\S+) (remote-as|description|update-source|password)(?:\s|$)",
        r"standby (\d+) (priority|preempt)(?:\s|$)",
        r"standby (\d+) ip(?!.* secondary$)(?:\s|$)",
        r"vrrp (\d+) (priority|ip)(?!.* secondary$)(?:\s|$)",
        r"service-policy (input|output)(?:\s|$)",
        r"ip access-group \S+ (in|out)$",
        r"ipv6 traffic-filter \S+ (in|out)$",
        r"access-group \S+ (in|out) interface (\S+)$",
        r"switchport port-security maximum(?:\s|$)",
        r"storm-control (broadcast|multicast|unicast) level(?:\s|$)",
        r"load-interval(?:\s|$)",
        r"ip helper-address (\S+)$",
        r"set (?:local-preference|metric|weight|origin|community)(?:\s|$)",
        r"match (?:ip address|community|as-path)(?:\s|$)",
        r"maximum-paths(?:\s|$)",
        r"distance(?:\s|$)",
    )
)
"""A line matching one of these replaces a sibling that matches the same pattern with the
same groups (``ip address A M`` replaces the interface's ``ip address B N``)."""


def replace_key(line: str) -> tuple[int, tuple[str | None, ...]] | None:
    """The single-value key of ``line`` (ignoring a leading ``no``), or None."""
    body = line[3:] if line.startswith("no ") else line
    for i, pattern in enumerate(SINGLE_VALUED):
        m = pattern.match(body)
        if m is not None:
            return i, m.groups()
    return None


def enters_mode(parents: tuple[str, ...], line: str) -> bool:
    """Whether typing ``line`` under ``parents`` enters a sub-mode (built-in data only)."""
    if line.startswith("no ") or line in EXITS:
        return False
    if not parents:
        if line.startswith("ntp") and line != "ntp":
            return False
        return TOP_MODES.match(line) is not None
    nested = NESTED_MODES.get(parents[0].split(" ", 1)[0])
    return nested is not None and nested.match(line) is not None

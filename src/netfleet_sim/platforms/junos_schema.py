"""The Junos statements the simulator knows at the top two levels of the hierarchy.

Taken from the statement summaries of Juniper's CLI and configuration references (EX,
MX and SRX). A word that is not a statement at its place is a ``syntax error.`` with
the caret under it, as on a device. Hierarchies whose second word is a name the user
chooses (``interfaces ge-0/0/0``, ``vlans USERS``, ``routing-instances RED``, ``groups
G``) take any word there; deeper levels are not checked.
"""

from __future__ import annotations

from collections.abc import Sequence

from netfleet_sim.platforms import junoscfg

TOP = frozenset(junoscfg.TOP_ORDER[1:])
"""Top-level statements (``version`` is set by the device, not by ``set``)."""

_ANYWHERE = frozenset({"apply-groups", "apply-groups-except", "traceoptions"})

_SECOND: dict[str, frozenset[str]] = {
    "system": frozenset(
        {
            "accounting", "allow-v4mapped-packets", "archival", "arp", "authentication-order",
            "auto-snapshot", "backup-router", "commit", "compress-configuration-files",
            "configuration-database", "ddos-protection", "default-address-selection",
            "domain-name", "domain-search", "dump-on-panic", "dynamic-profile-options",
            "encrypt-configuration-files", "extensions", "fips", "host-name",
            "inet6-backup-router", "internet-options", "license", "location", "login",
            "management-instance", "master-password", "max-configuration-rollbacks",
            "max-configurations-on-flash", "mirror-flash-on-disk", "name-server",
            "no-multicast-echo", "no-ping-record-route", "no-ping-time-stamp", "no-redirects",
            "no-redirects-ipv6", "ntp", "packet-forwarding-options", "phone-home", "ports",
            "processes", "proxy", "radius-options", "radius-server", "root-authentication",
            "saved-core-context", "saved-core-files", "scripts", "security-profile",
            "services", "static-host-mapping", "switchover-on-routing-crash", "syslog",
            "tacplus-options", "tacplus-server", "time-zone", "tracing",
        }
    ),
    "chassis": frozenset(
        {
            "aggregated-devices", "alarm", "auto-image-upgrade", "cluster", "config-button",
            "container-devices", "craft-lockout", "disk-partition", "fabric", "fan", "fpc",
            "lcd-menu", "maximum-ecmp", "memory-enhanced", "network-services", "nssu", "pem",
            "power", "psu", "redundancy", "routing-engine", "satellite-management",
            "synchronization", "usb",
        }
    ),
    "security": frozenset(
        {
            "address-book", "advance-policy-based-routing", "alg", "application-firewall",
            "application-tracking", "authentication-key-chains", "certificates",
            "datapath-debug", "dynamic-address", "dynamic-vpn", "flow", "forwarding-options",
            "forwarding-process", "gprs", "group-vpn", "idp", "ike", "ipsec", "log", "macsec",
            "nat", "pki", "policies", "screen", "ssh-known-hosts", "ssl", "tcp-encap",
            "user-identification", "utm", "zones",
        }
    ),
    "snmp": frozenset(
        {
            "arp", "client-list", "community", "contact", "customization", "description",
            "engine-id", "filter-duplicates", "filter-interfaces", "health-monitor",
            "if-count-with-filter-interfaces", "interface", "location",
            "logical-system-trap-filter", "name", "nonvolatile", "proxy", "rmon",
            "routing-instance-access", "stats-cache-lifetime", "subagent", "system-name",
            "trap-group", "trap-options", "v3", "view",
        }
    ),
    "forwarding-options": frozenset(
        {
            "accounting", "analyzer", "dhcp-relay", "enhanced-hash-key", "family", "hash-key",
            "helpers", "load-balance", "monitoring", "multicast-replication", "next-hop-group",
            "packet-capture", "port-mirroring", "rpf-loose-mode-discard", "sampling",
            "storm-control-profiles", "tunnels", "vxlan-routing",
        }
    ),
    "routing-options": frozenset(
        {
            "access", "access-internal", "aggregate", "auto-export", "autonomous-system",
            "bmp", "confederation", "dynamic-tunnels", "fate-sharing", "flexible-algorithm",
            "flow", "forwarding-table", "generate", "graceful-restart", "instance-export",
            "instance-import", "interface-routes", "martians", "maximum-paths",
            "maximum-prefixes", "med-igp-update-interval", "multicast", "multipath",
            "nonstop-routing", "options", "ppm", "resolution", "rib", "rib-groups",
            "route-distinguisher-id", "router-id", "source-packet-routing", "srlg", "static",
            "transport-class", "validation",
        }
    ),
    "protocols": frozenset(
        {
            "amt", "bfd", "bgp", "connections", "dcbx", "dot1x", "esis", "ethernet-switching",
            "evpn", "iccp", "igmp", "igmp-snooping", "isis", "l2circuit", "l2iw", "l2vpn",
            "lacp", "layer2-control", "ldp", "link-management", "lldp", "lldp-med",
            "loop-detect", "mld", "mld-snooping", "mpls", "msdp", "mstp", "mvpn", "mvrp",
            "neighbor-discovery", "oam", "ospf", "ospf3", "pcep", "pim", "ppp",
            "protection-group", "r2cp", "rip", "ripng", "router-advertisement",
            "router-discovery", "rsvp", "rstp", "sap", "sflow", "source-packet-routing",
            "stp", "uplink-failure-detection", "vrrp", "vstp",
        }
    ),
    "policy-options": frozenset(
        {
            "application-maps", "as-list", "as-list-group", "as-path", "as-path-group",
            "community", "condition", "damping", "defaults", "large-community", "mac-list",
            "policy-statement", "prefix-list", "route-distinguisher", "route-filter-list",
            "rtf-prefix-list", "tunnel-attribute",
        }
    ),
    "class-of-service": frozenset(
        {
            "adaptive-shapers", "application-traffic-control", "classifiers",
            "code-point-aliases", "congestion-notification-profile", "drop-profiles",
            "fabric", "forwarding-classes", "forwarding-policy", "fragmentation-maps",
            "host-outbound-traffic", "interfaces", "loss-priority-maps",
            "loss-priority-rewrites", "multi-destination", "policy-map", "rewrite-rules",
            "routing-instances", "scheduler-maps", "schedulers", "shared-buffer",
            "system-defaults", "traffic-control-profiles", "translation-table", "tri-color",
            "virtual-channel-groups", "virtual-channels",
        }
    ),
    "firewall": frozenset(
        {
            "atm-policer", "family", "filter", "flexible-match", "hierarchical-policer",
            "interface-set", "load-balance-group", "policer", "three-color-policer",
        }
    ),
}  # fmt: skip


def unknown_word(path: Sequence[str]) -> int | None:
    """Index of the first word of ``path`` that is not a statement at its place, or None."""
    if not path:
        return None
    if path[0] not in TOP:
        return 0
    known = _SECOND.get(path[0])
    if known is not None and len(path) > 1 and path[1] not in known and path[1] not in _ANYWHERE:
        return 1
    return None

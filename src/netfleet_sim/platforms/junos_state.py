"""Junos device state: the committed configuration (as ``set`` statements) and identity."""

from __future__ import annotations

import time
from typing import Any

from netfleet_sim.platforms import junoscfg
from netfleet_sim.platforms.identity import boot_epoch, ipv4_mgmt
from netfleet_sim.platforms.ios_like.ios import BANNER
from netfleet_sim.platforms.junos_db import ConfigDb

HASH = '"$6$Ksx0.hbW$8pQ1mDp4Sg3u4NvZL4tq0b0c0Yw/8p1e0Gd6hZQmJ0"'


def base_config(hostname: str, index: int) -> list[str]:
    """Factory configuration (``set`` statements) of the simulated EX4300."""
    return [
        f"system host-name {hostname}",
        f"system root-authentication encrypted-password {HASH}",
        f'system login message "{BANNER}"',
        "system login user admin uid 2000",
        "system login user admin class super-user",
        f"system login user admin authentication encrypted-password {HASH}",
        "system services ssh",
        "system services netconf ssh",
        "system syslog host 10.255.0.10 any notice",
        "system syslog file messages any notice",
        "system ntp server 10.255.0.1",
        "interfaces ge-0/0/0 unit 0 family ethernet-switching vlan members USERS",
        "interfaces ge-0/0/1 unit 0 family ethernet-switching vlan members USERS",
        f"interfaces me0 unit 0 family inet address {ipv4_mgmt(index)}/8",
        "snmp community public authorization read-only",
        "routing-options static route 0.0.0.0/0 next-hop 10.0.0.254",
        "protocols lldp interface all",
        "vlans USERS vlan-id 10",
        "vlans VOICE vlan-id 20",
        "vlans default vlan-id 1",
    ]


class JunosState:
    """One Junos device: the committed configuration (also what survives a reboot)."""

    def __init__(self, hostname: str, index: int, config_size: int = 0) -> None:
        self.index = index
        self.first_hostname = hostname
        self.config_size = config_size
        self.committed = base_config(hostname, index)
        self.previous: list[str] = list(self.committed)
        self.booted_at = boot_epoch(index)
        self.last_commit = self.booted_at
        self.last_user = "root"
        self.platform = "juniper_junos"
        self.db = ConfigDb(self.committed)
        """The shared candidate and who is editing (not persisted: lost on restart)."""
        self.pending_confirm: tuple[float, list[str]] | None = None
        """A ``commit confirmed``: its deadline and the configuration it reverts to."""
        self.minute_s = 60.0
        """Seconds in a ``commit confirmed`` minute (tests shorten it)."""
        self.auto_rollbacks = 0

    @property
    def hostname(self) -> str:
        """``system host-name``."""
        for statement in self.committed:
            if statement.startswith("system host-name "):
                return statement.split()[2]
        return self.first_hostname

    @hostname.setter
    def hostname(self, name: str) -> None:
        old = list(self.committed)
        junoscfg.set_line(self.committed, f"system host-name {name}")
        self.db.committed_now(old, self.committed)

    def uptime(self) -> float:
        """Seconds since boot."""
        return max(60.0, time.time() - self.booted_at)

    def commit_confirmed(self, candidate: list[str], user: str, minutes: int) -> None:
        """Commit ``candidate``; unless another commit follows within ``minutes``, the
        configuration from before reverts (a repeated one keeps the first restore point)."""
        restore = self.pending_confirm[1] if self.pending_confirm else list(self.committed)
        self.commit(candidate, user)
        self.pending_confirm = (time.time() + minutes * self.minute_s, restore)

    def confirm(self) -> bool:
        """A plain ``commit`` (or ``commit check``) confirms; True if one was pending."""
        pending, self.pending_confirm = self.pending_confirm, None
        return pending is not None

    def expire(self, now: float | None = None) -> bool:
        """Revert an unconfirmed commit whose deadline passed; True if it did."""
        if self.pending_confirm is None:
            return False
        deadline, restore = self.pending_confirm
        if (time.time() if now is None else now) < deadline:
            return False
        self.pending_confirm = None
        self.commit(restore, "root")
        self.auto_rollbacks += 1
        return True

    def commit(self, candidate: list[str], user: str) -> None:
        """Make ``candidate`` the active configuration."""
        old, self.previous = self.committed, self.committed
        self.committed = list(candidate)
        self.db.committed_now(old, self.committed)
        self.last_commit = time.time()
        self.last_user = user

    def reboot(self) -> None:
        """Restart; committed configuration persists (Junos has no unsaved running config)."""
        self.booted_at = time.time()

    def to_json(self) -> dict[str, Any]:
        """A JSON-serialisable snapshot."""
        self.expire()
        return {
            "platform": self.platform,
            "index": self.index,
            "first_hostname": self.first_hostname,
            "config_size": self.config_size,
            "committed": self.committed,
            "previous": self.previous,
            "booted_at": self.booted_at,
            "last_commit": self.last_commit,
            "last_user": self.last_user,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> JunosState:
        """Restore a snapshot made by :meth:`to_json`."""
        state = cls(str(data["first_hostname"]), int(data["index"]), int(data["config_size"]))
        state.committed = list(data["committed"])
        state.db = ConfigDb(state.committed)
        state.previous = list(data.get("previous", state.committed))
        state.booted_at = float(data["booted_at"])
        state.last_commit = float(data["last_commit"])
        state.last_user = str(data["last_user"])
        return state

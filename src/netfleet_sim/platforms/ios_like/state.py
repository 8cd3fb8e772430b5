"""Device state of IOS-like platforms and the data that describes a platform flavour."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from netfleet_sim.contract import Pager
from netfleet_sim.platforms.identity import boot_epoch
from netfleet_sim.platforms.ios_like import config as cfg
from netfleet_sim.platforms.ios_like.config import Config
from netfleet_sim.platforms.ios_like.view import Hardware
from netfleet_sim.platforms.ios_like.vocab import Vocab
from netfleet_sim.platforms.padding import PadStyle, ios_acl

if TYPE_CHECKING:
    from netfleet_sim.platforms.ios_like.session import IosSession

ShowFn = Callable[["IosSession", tuple[str, ...]], str]


@dataclass(frozen=True)
class IosFlavor:
    """Everything that distinguishes one IOS-like platform from another."""

    name: str
    hardware: Hardware
    base_config: Callable[[str, int], Config]
    """The factory configuration of device ``index`` named ``hostname``."""
    shows: dict[str, ShowFn]
    """``show`` phrases (without ``show``) and their renderers."""
    user_shows: frozenset[str]
    """The ``show`` phrases allowed in user exec mode."""
    iface_types: tuple[str, ...]
    """Canonical interface type names, in running-config order."""
    pager: Pager
    paging_off: tuple[str, ...] = ("terminal length <arg>",)
    replies: dict[str, str] = field(default_factory=dict)
    """What terminal settings print: keys ``width``, ``length`` and ``length0`` ({n} = value)."""
    extra_exec: dict[str, str] = field(default_factory=dict)
    """Further exec phrases mapped to engine action names."""
    privileged_exec: dict[str, str] = field(default_factory=dict)
    """Further privileged-exec-only phrases (configuration snapshots and replace)."""
    login_privileged: bool = False
    alias_prefix: str = "alias exec "
    """How the running config defines an exec alias: ``alias exec NAME COMMAND`` (IOS),
    ``cli alias name NAME COMMAND`` (NX-OS)."""
    prompt_prefix: str = ""
    prompt_space: bool = False
    """Whether prompts end in a space (NX-OS, ASA)."""
    enable_attempts: int = 3
    enable_asks_blank: bool = False
    """``enable`` asks for the password even when it is blank (a factory ASA)."""
    show_in_config: bool = False
    """Whether ``show`` works in configuration mode without ``do``."""
    invalid: str = "% Invalid input detected at '^' marker."
    caret: bool = True
    incomplete: str = "% Incomplete command."
    ambiguous: str = '% Ambiguous command:  "{line}"'
    error_blank_line: bool = True
    """Whether an empty line follows error messages."""
    bad_secret: str = "% Bad secrets"
    denied: str = "% Access denied"
    global_vocab: Vocab | None = None
    iface_vocab: Vocab | None = None
    router_vocab: dict[str, Vocab] = field(default_factory=dict)
    """Router configuration modes by protocol (``router ospf 1``); others accept any line."""
    submodes: dict[str, str] = field(default_factory=dict)
    """First words of stanza headers and the mode names they enter (``interface`` -> ``if``)."""
    explicit_no_shutdown: bool = False
    candidate: bool = False
    """Configuration edits a candidate that ``commit`` applies (IOS-XR)."""
    banner: str = ""
    """The pre-authentication SSH banner."""
    motd: str = ""
    reload_question: str = "Proceed with reload? [confirm]"
    copy_question: str = "Destination filename [startup-config]? "
    save_output: str = "Building configuration...\n[OK]\n"
    copy_output: str = "Building configuration...\n[OK]\n"
    switch: bool = False
    pad_style: PadStyle = ios_acl
    indent: str = " "
    separator: str | None = "!"
    """The line between configuration blocks (NX-OS: an empty line)."""
    write_memory: bool = True
    copy_save: bool = True
    """Whether ``copy running-config startup-config`` exists (not on IOS-XR)."""
    """Whether ``write memory`` exists (not on NX-OS)."""
    banner_eof: bool = False
    """Banners are entered as lines ended by ``EOF`` (EOS) instead of a delimiter."""
    banner_line: bool = False
    """``banner motd`` takes the text on the same line, undelimited (ASA)."""
    """Banners are entered as lines ended by ``EOF`` (EOS) instead of a delimiter."""
    """Indentation of child lines in the running configuration."""
    config_banner: str = "Enter configuration commands, one per line.  End with CNTL/Z.\n"


class IosState:
    """One IOS-like device: running and startup configuration plus identity."""

    __slots__ = (
        "booted_at",
        "commits",
        "config_size",
        "files",
        "first_hostname",
        "flavor",
        "index",
        "last_change",
        "pending_confirm",
        "platform",
        "running",
        "startup",
    )

    def __init__(
        self,
        flavor: IosFlavor,
        hostname: str,
        index: int,
        config_size: int = 0,
    ) -> None:
        self.flavor = flavor
        self.platform = flavor.name
        self.index = index
        self.first_hostname = hostname
        self.config_size = config_size
        self.running: Config = cfg.share_config(flavor.base_config(hostname, index))
        self.startup: Config | None = None
        """``None`` until the first save: the factory configuration."""
        self.booted_at = boot_epoch(index)
        self.last_change = self.booted_at
        self.commits = 0
        self.pending_confirm: tuple[float, Config] | None = None
        """IOS-XR ``commit confirmed``: its deadline and the configuration it reverts to."""
        self.files: dict[str, Config] = {}
        """Saved configurations on flash (and NX-OS checkpoints), by name."""

    @property
    def hostname(self) -> str:
        """The configured hostname."""
        return cfg.value(self.running, "hostname ") or self.first_hostname

    @hostname.setter
    def hostname(self, name: str) -> None:
        cfg.set_global(self.running, f"hostname {name}", self.flavor.iface_types)

    def startup_config(self) -> Config:
        """The saved configuration."""
        if self.startup is None:
            return cfg.share_config(self.flavor.base_config(self.first_hostname, self.index))
        return self.startup

    def save(self) -> None:
        """Copy the running configuration to startup."""
        self.startup = cfg.intern_config(self.running)

    def commit(self, candidate: Config) -> None:
        """Apply a committed candidate: it becomes the running and saved configuration."""
        self.running = cfg.intern_config(candidate)
        self.touch()
        self.save()
        self.commits += 1

    def expire(self, now: float | None = None) -> bool:
        """Revert an unconfirmed ``commit confirmed`` whose deadline passed."""
        if self.pending_confirm is None:
            return False
        deadline, restore = self.pending_confirm
        if (time.time() if now is None else now) < deadline:
            return False
        self.pending_confirm = None
        self.commit(restore)
        return True

    def touch(self) -> None:
        """Record a configuration change."""
        self.last_change = time.time()

    def uptime(self) -> float:
        """Seconds since boot."""
        return max(60.0, time.time() - self.booted_at)

    def reboot(self) -> None:
        """Discard unsaved changes and restart the uptime."""
        self.running = cfg.share_config(self.startup_config())
        self.booted_at = time.time()
        self.last_change = self.booted_at

    def to_json(self) -> dict[str, Any]:
        """A JSON-serialisable snapshot."""
        self.expire()
        return {
            "platform": self.platform,
            "index": self.index,
            "first_hostname": self.first_hostname,
            "config_size": self.config_size,
            "running": [list(s) for s in self.running],
            "startup": None if self.startup is None else [list(s) for s in self.startup],
            "booted_at": self.booted_at,
            "last_change": self.last_change,
            "commits": self.commits,
            "files": {k: [list(s) for s in v] for k, v in self.files.items()},
        }

    @classmethod
    def from_json(cls, flavor: IosFlavor, data: dict[str, Any]) -> IosState:
        """Restore a snapshot made by :meth:`to_json`."""
        state = cls(flavor, str(data["first_hostname"]), int(data["index"]))
        state.config_size = int(data.get("config_size", 0))
        state.running = cfg.share_config(data["running"])
        startup = data.get("startup")
        state.startup = None if startup is None else cfg.share_config(startup)
        state.booted_at = float(data["booted_at"])
        state.last_change = float(data.get("last_change", state.booted_at))
        state.commits = int(data.get("commits", 0))
        state.files = {k: cfg.intern_config(v) for k, v in data.get("files", {}).items()}
        return state

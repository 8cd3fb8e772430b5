"""A tiny platform conforming to the contract, so server tests do not depend on real platforms.

Commands: ``enable`` (asks ``Password:``, checks the enable secret), ``show lines N``
(N numbered lines, pageable), ``terminal length 0`` / ``terminal length N``,
``set KEY VALUE`` (running config), ``write memory``, ``show config``, ``exit``;
anything else is echoed back as ``echo: LINE``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from netfleet_sim.contract import CliEngine, DeviceState, Pager, Reply


@dataclass
class EchoState:
    hostname: str
    running: dict[str, str] = field(default_factory=dict)
    startup: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"hostname": self.hostname, "running": self.running, "startup": self.startup}

    def reboot(self) -> None:
        self.running = dict(self.startup)


class EchoEngine:
    def __init__(self, state: EchoState, enable_secret: str) -> None:
        self._state = state
        self._secret = enable_secret
        self._enabled = False
        self._awaiting_secret = False
        self._page_lines = 24

    def motd(self) -> str:
        return "Welcome to the echo device\n"

    def prompt(self) -> str:
        if self._awaiting_secret:
            return "Password: "
        return f"{self._state.hostname}{'#' if self._enabled else '>'}"

    def echo(self) -> bool:
        return not self._awaiting_secret

    def paging(self) -> Pager | None:
        if self._page_lines == 0:
            return None
        return Pager(prompt=" --More-- ", lines=self._page_lines, erase="\b" * 10)

    def execute(self, line: str) -> Reply:
        if self._awaiting_secret:
            self._awaiting_secret = False
            if line == self._secret:
                self._enabled = True
                return Reply()
            return Reply("% Access denied\n")
        words = line.split()
        if not words:
            return Reply()
        if words == ["enable"]:
            self._awaiting_secret = True
            return Reply()
        if words[:2] == ["terminal", "length"] and len(words) == 3:
            self._page_lines = int(words[2])
            return Reply()
        if words[:2] == ["show", "lines"] and len(words) == 3:
            return Reply("".join(f"line {i}\n" for i in range(1, int(words[2]) + 1)))
        if words[0] == "set" and len(words) == 3:
            self._state.running[words[1]] = words[2]
            return Reply(pageable=False)
        if words[:2] == ["write", "memory"]:
            self._state.startup = dict(self._state.running)
            return Reply("[OK]\n")
        if words[:2] == ["show", "config"]:
            return Reply("".join(f"{k} {v}\n" for k, v in sorted(self._state.running.items())))
        if words == ["crash"]:
            raise RuntimeError("boom")
        if words == ["exit"]:
            return Reply(close=True)
        return Reply(f"echo: {line}\n")


class EchoPlatform:
    name = "echo"

    def ssh_banner(self, state: DeviceState) -> str:
        return "Authorized access only\n"

    def new_state(self, hostname: str, *, index: int, config_size: int = 0) -> DeviceState:
        state = EchoState(hostname)
        if config_size:
            state.running["pad"] = "x" * config_size
        return state

    def load_state(self, data: dict[str, Any]) -> DeviceState:
        return EchoState(data["hostname"], dict(data["running"]), dict(data["startup"]))

    def engine(self, state: DeviceState, *, username: str, enable_secret: str) -> CliEngine:
        assert isinstance(state, EchoState)
        return EchoEngine(state, enable_secret)


ECHO = EchoPlatform()
REGISTRY = {"echo": ECHO, "echo2": ECHO}

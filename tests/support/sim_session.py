"""Drive a platform engine like an SSH client would, without SSH."""

from __future__ import annotations

from typing import Any

from ntc_templates.parse import parse_output

from netfleet_sim.contract import CliEngine, DeviceState, PlatformSim
from netfleet_sim.platforms import get_platform

SECRET = "en-secret"


class Session:
    """One CLI session on a simulated device."""

    def __init__(self, platform: str, state: DeviceState | None = None, **kw: Any) -> None:
        self.platform: PlatformSim = get_platform(platform)
        self.state = state if state is not None else self.platform.new_state("R1", index=7, **kw)
        self.engine: CliEngine = self.platform.engine(
            self.state, username="admin", enable_secret=SECRET
        )
        self.closed = False

    def run(self, line: str) -> str:
        """Send one line; return what the device printed."""
        reply = self.engine.execute(line)
        self.closed = reply.close
        return reply.output

    def lines(self, *lines: str) -> list[str]:
        """Send several lines; return their outputs."""
        return [self.run(line) for line in lines]

    def prompt(self) -> str:
        """The current prompt."""
        return self.engine.prompt()


def parse(platform: str, command: str, text: str) -> list[dict[str, Any]]:
    """Parse ``text`` with the ntc-templates template for ``command``."""
    result: list[dict[str, Any]] = parse_output(platform=platform, command=command, data=text)
    assert result, f"{platform} {command!r} parsed to nothing:\n{text}"
    return result


def enabled(platform: str, space: str = "") -> Session:
    """A ``platform`` session at ``R1>``, taken to ``R1#`` by ``enable`` and the secret
    (which is not echoed); ``space`` follows the prompt character on some platforms."""
    s = Session(platform)
    assert s.prompt() == "R1>" + space
    s.run("enable")
    assert s.engine.echo() is False
    s.run(SECRET)
    assert s.prompt() == "R1#" + space
    return s


def parse_by(platform: str, command: str, text: str, key: str) -> dict[str, dict[str, Any]]:
    """The ntc-templates rows of ``text``, keyed by their ``key`` column."""
    return {row[key]: row for row in parse(platform, command, text)}

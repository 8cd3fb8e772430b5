"""Guess a device's platform from its banner and its version command's output."""

from __future__ import annotations

from typing import Any

from netfleet.core.errors import DeviceError
from netfleet.platforms import (
    PlatformSpec,
    PrivilegeLevel,
    detect_platform,
    get_platform,
    known_platforms,
)

_ANY_PROMPT = (
    r"^(?P<host>[\w.\-@:/~\[\]]*\w[\w.\-@:/~\[\]]*?)(?:\([\w.\-/:]+\))?"
    r"[ \t]?[>#$%][ \t]*\Z"
)


class PlatformNotDetected(DeviceError):
    """No registered platform matches the device's banner or version output."""


def _generic_spec() -> PlatformSpec:
    specs = [get_platform(n) for n in known_platforms()]
    pagers = sorted({s.pager_prompt for s in specs if s.pager_prompt})
    return PlatformSpec(
        name="autodetect",
        display_name="any platform",
        levels=(PrivilegeLevel(name="any", prompt=_ANY_PROMPT),),
        default_level="any",
        config_level="any",
        pager_prompt="|".join(f"(?:{p})" for p in pagers) or None,
    )


def _version_commands() -> list[str]:
    commands = ["show version"]
    for name in known_platforms():
        cmd = get_platform(name).version_command
        if cmd and cmd not in commands:
            commands.append(cmd)
    return commands


async def autodetect(
    host: str,
    port: int = 22,
    username: str | None = None,
    password: str | None = None,
    **kwargs: Any,
) -> str:
    """The name of the registered platform the device at ``host:port`` runs.

    Logs in with a prompt pattern that fits every platform, checks the banner
    and the output of each platform's version command (``show version`` first);
    raises ``PlatformNotDetected`` if nothing matches. Other keyword arguments
    are those of ``Device`` (credentials, host key policy, timeouts ...).
    """
    from netfleet.device.device import Device

    kwargs.setdefault("command_timeout", 15.0)
    dev = Device(
        host,
        port=port,
        platform=_generic_spec(),
        username=username,
        password=password,
        skip_on_open=True,
        auto_reconnect=False,
        **kwargs,
    )
    async with dev:
        outputs = []
        for command in _version_commands():
            result = await dev.send_command(command)
            outputs.append(result.output)
            name = detect_platform(version_output=result.output, banner=dev.banner)
            if name is not None:
                return name
    raise PlatformNotDetected(
        "no known platform matches its banner or version output "
        f"(known: {', '.join(known_platforms())})",
        device=dev.name,
    )

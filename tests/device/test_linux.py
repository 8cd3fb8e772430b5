"""Linux hosts: a real OpenSSH sshd on loopback, and the simulator's Linux variants.

Once pinned, a lone ``#`` or ``$`` line never ends a read; ``bash-5.1$``, ``host:~$``
and ``(venv) user@host:~$`` prompts are recognised; errors count only at the start of
a line; a non-zero exit status fails the command with its output kept.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from netfleet.core.errors import PlatformMismatch
from netfleet.device import Device
from netfleet.transport import Timeouts
from netfleet_sim import SimDevice, Simulator
from netfleet_sim.platforms.linux import LinuxPlatform, LinuxState
from tests.support.sshd import RealSshd, start_sshd

MakeDevice = Callable[..., Device]

# A shell that writes a lone '#' (and '$'), pauses, then goes on: the pause leaves the
# '#' as the last, unterminated line of the buffer, where a loose prompt pattern stops.
SLOW_HASHES = "printf 'a\\n#'; sleep 0.3; printf '\\n$'; sleep 0.3; printf '\\nb\\n'"


@pytest.fixture(
    params=[
        "nftest@nf-sshd:\\w$ ",
        "bash-5.1$ ",
        "nf-sshd:\\w$ ",
        "(venv) nftest@nf-sshd:\\w$ ",
    ],
    ids=["debian", "bash", "host", "venv"],
)
def sshd(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[RealSshd]:
    server = start_sshd(tmp_path, ps1=str(request.param))
    try:
        yield server
    finally:
        server.stop()


def _real(server: RealSshd, known_hosts: Path, platform: str = "linux", **options: Any) -> Device:
    return Device(
        "127.0.0.1",
        port=server.port,
        platform=platform,
        username=server.username,
        private_key=server.client_key.read_text(),
        host_key_policy="accept-new",
        known_hosts=known_hosts,
        name="real-sshd",
        command_timeout=10.0,
        **options,
    )


async def test_real_sshd_prompts_hash_lines_errors_and_exit_status(
    sshd: RealSshd, known_hosts: Path
) -> None:
    async with _real(sshd, known_hosts) as dev:
        assert dev.hostname in ("nf-sshd", "bash-5.1")
        shown = await dev.send_command(SLOW_HASHES)
        assert shown.ok, shown.error
        assert shown.output == "a\n#\n$\nb"
        after = await dev.send_command("echo next")
        assert after.output == "next"  # nothing of the previous command left over
        failed = await dev.send_command("printf 'partial\\n'; false")
        assert not failed.ok
        assert failed.error == "exit status 1: partial"
        assert failed.output == "partial"
        missing = await dev.send_command("nf-no-such-command")
        assert not missing.ok
        assert missing.error is not None
        assert "nf-no-such-command: command not found" in missing.error
        mentioned = await dev.send_command("echo 'the log said: No such file or directory'")
        assert mentioned.ok, mentioned.error  # not at the start of a line: not an error
        trailing = await dev.send_command("echo done;")
        assert (trailing.ok, trailing.output) == (True, "done")


@pytest.fixture(params=["debian", "bash", "host", "venv"])
async def linux(request: pytest.FixtureRequest) -> AsyncIterator[SimDevice]:
    registry = {"linux": LinuxPlatform(str(request.param))}
    async with Simulator(devices=1, platforms=["linux"], registry=registry) as sim:
        yield sim.devices[0]


async def test_sim_lone_hash_lines_sent_one_byte_at_a_time(
    linux: SimDevice, make_device: MakeDevice
) -> None:
    state = linux.state
    assert isinstance(state, LinuxState)
    state.files["/home/admin/hashes.txt"] = "a\n#\n$\n# \nb\n"
    async with make_device(linux) as dev:
        linux.set_faults(bytes_per_second=20)  # one byte per write
        shown = await dev.send_command("cat hashes.txt")
        linux.set_faults(bytes_per_second=None)
        assert shown.ok, shown.error
        assert shown.output == "a\n#\n$\n# \nb"
        assert (await dev.send_command("whoami")).output == "admin"


async def test_sim_exit_status_and_line_start_errors(
    linux: SimDevice, make_device: MakeDevice
) -> None:
    async with make_device(linux) as dev:
        failed = await dev.send_command("false")
        assert (failed.ok, failed.error, failed.output) == (False, "exit status 1", "")
        said = await dev.send_command("echo see: bash: x: command not found here")
        assert said.ok, said.error
        missing = await dev.send_command("cat /nope")
        assert missing.error == "cat: /nope: No such file or directory"
        await dev.enable()
        assert dev.level == "privileged"
        assert (await dev.send_command("whoami")).output == "root"


async def test_real_sshd_listed_as_ios_is_a_platform_mismatch(tmp_path: Path) -> None:
    """A host we did not write, under the wrong platform: the shell's own prompt is named
    at once (not after the 60 s prompt timeout)."""
    server = start_sshd(tmp_path, ps1="nftest@nf-sshd:\\w$ ")
    try:
        slow = Timeouts(tcp=10.0, handshake=10.0, auth=10.0, prompt=60.0)
        dev = _real(server, tmp_path / "known_hosts", platform="cisco_ios", timeouts=slow)
        with pytest.raises(PlatformMismatch) as caught:
            await dev.open()
    finally:
        server.stop()
    message = str(caught.value)
    assert message.startswith("real-sshd: no Cisco IOS prompt after login: the device went ")
    # Platforms other tests registered in this process may share the prompt's shape.
    named = message.split("'nftest@nf-sshd:~$', a prompt of ", 1)[1].split(";", 1)[0]
    assert "linux" in named.replace(" or ", ", ").split(", "), message

"""Credentials, privilege levels, host key policies, session logs, autodetect, sync facade."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import asyncssh
import pytest

from netfleet.core.errors import (
    AuthenticationFailed,
    ConnectError,
    ConnectTimeout,
    HostKeyMismatch,
    HostKeyUnknown,
    PrivilegeError,
)
from netfleet.core.models import Credential, DeviceSpec
from netfleet.core.settings import ConnectSettings
from netfleet.device import Device, autodetect
from netfleet.transport import Timeouts
from netfleet_sim import Simulator
from netfleet_sim.fleet import builtin_platforms

MakeDevice = Callable[..., Device]


def _read(path: Path) -> str:
    return path.read_text() if path.exists() else ""


async def test_credentials_are_tried_in_order_after_auth_failures(
    ios_sim: Simulator, make_device: MakeDevice
) -> None:
    d = ios_sim.devices[0]
    creds = [
        Credential(username=d.username, password="wrong-1", name="old"),
        Credential(username="nobody", password="wrong-2", name="other"),
        Credential(username=d.username, password=d.password, enable_secret=d.enable_secret),
    ]
    async with make_device(d, username=None, credentials=creds) as dev:
        assert dev.timings.attempts == 3
        assert dev.credential is creds[2]
        await dev.enable()  # the enable secret comes from the credential that worked
        assert dev.level == "privileged"
    with pytest.raises(AuthenticationFailed, match="every credential \\('old', 'other'\\)"):
        async with make_device(d, username=None, credentials=creds[:2]):
            pass


async def test_timeout_is_not_followed_by_the_next_credential(
    ios_sim: Simulator, make_device: MakeDevice
) -> None:
    d = ios_sim.devices[0]
    d.set_faults(login_delay_ms=3000)
    creds = [Credential(username=d.username, password=d.password)] * 2
    quick = Timeouts(tcp=2.0, handshake=2.0, auth=0.3, prompt=2.0)
    dev = make_device(d, username=None, credentials=creds, timeouts=quick)
    with pytest.raises(ConnectTimeout, match="auth"):
        await dev.open()
    assert dev.timings.attempts == 1


async def test_enable_with_a_wrong_secret_is_privilege_error(
    ios_sim: Simulator, make_device: MakeDevice
) -> None:
    name = ios_sim.devices[0].name
    with pytest.raises(PrivilegeError, match=f"{name}: .*rejected") as opening:
        async with make_device(ios_sim.devices[0], enable_secret="not-it"):
            pass  # every open enters enable: a wrong secret fails the open
    assert "not-it" not in str(opening.value)
    async with make_device(ios_sim.devices[0], enable_secret="not-it", enable=False) as dev:
        with pytest.raises(PrivilegeError, match=f"{name}: .*rejected") as info:
            await dev.enable()
        assert "not-it" not in str(info.value)
        assert dev.level == "exec"
        assert (await dev.send_command("show clock")).ok  # still usable, still in step
    async with make_device(ios_sim.devices[0], enable_secret=None) as dev:
        with pytest.raises(PrivilegeError, match="no enable secret"):
            await dev.enable()
        assert dev.level == "exec"


async def test_accept_new_pins_the_key_and_strict_then_trusts_it(
    ios_sim: Simulator, make_device: MakeDevice, known_hosts: Path
) -> None:
    d = ios_sim.devices[0]
    with pytest.raises(HostKeyUnknown, match=rf"{d.name}: host key of \[127.0.0.1\]:{d.port}"):
        async with make_device(d, host_key_policy="strict"):
            pass
    assert _read(known_hosts) == ""
    async with make_device(d, host_key_policy="accept-new"):
        pass
    assert _read(known_hosts).startswith(f"[127.0.0.1]:{d.port} ssh-")
    async with make_device(d, host_key_policy="strict") as dev:
        assert await dev.is_alive()
    assert len(_read(known_hosts).splitlines()) == 1


async def test_changed_host_key_is_mismatch_naming_both_fingerprints(
    ios_sim: Simulator, make_device: MakeDevice, known_hosts: Path
) -> None:
    d = ios_sim.devices[0]
    impostor = asyncssh.generate_private_key("ssh-ed25519")
    pinned = impostor.export_public_key().decode().strip()
    await asyncio.to_thread(known_hosts.write_text, f"[127.0.0.1]:{d.port} {pinned}\n")
    for policy in ("strict", "accept-new"):
        with pytest.raises(HostKeyMismatch) as info:
            async with make_device(d, host_key_policy=policy):
                pass
        message = str(info.value)
        assert message.startswith(f"{d.name}: host key of [127.0.0.1]:{d.port} changed")
        assert impostor.get_fingerprint() in message
        assert message.count("SHA256:") == 2
    async with make_device(d, host_key_policy="off") as dev:  # explicit opt-out
        assert await dev.is_alive()


async def test_session_log_masks_secrets(
    ios_sim: Simulator, make_device: MakeDevice, tmp_path: Path
) -> None:
    d = ios_sim.devices[0]
    log = tmp_path / "logs" / "r1.log"
    async with make_device(d, session_log=log) as dev:
        await dev.enable()
        await dev.send_config(
            [
                "username ops privilege 15 secret 0 Sup3rSecret!",
                "snmp-server community c0mmun1ty RO",
            ]
        )
        run = await dev.send_command("show running-config")
    assert "Sup3rSecret!" in run.output or "ops" in run.output
    text = _read(log)
    assert "show running-config" in text
    assert "username ops" in text
    assert "snmp-server community" in text
    for secret in (d.enable_secret, "Sup3rSecret!", "c0mmun1ty"):
        assert secret not in text
    assert "******" in text


async def test_from_spec_uses_settings(ios_sim: Simulator, tmp_path: Path) -> None:
    d = ios_sim.devices[0]
    spec = DeviceSpec(
        name="edge-1",
        host=d.host,
        port=d.port,
        platform="cisco_ios",
        credentials=(Credential(d.username, d.password, enable_secret=d.enable_secret),),
    )
    settings = ConnectSettings(known_hosts=tmp_path / "kh", session_log_dir=tmp_path / "logs")
    async with Device.from_spec(spec, settings) as dev:
        assert dev.spec is spec
        assert dev.name == "edge-1"
        assert dev.platform.name == "cisco_ios"
        await dev.enable()
        assert (await dev.send_command("show clock")).ok
    assert _read(tmp_path / "kh").startswith("[127.0.0.1]:")
    assert "show clock" in _read(tmp_path / "logs" / "edge-1.log")


async def test_autodetect_from_banner_and_version(
    make_device: MakeDevice, known_hosts: Path
) -> None:
    platforms = sorted(builtin_platforms())
    assert {"cisco_ios", "cisco_xe"} <= set(platforms)
    async with Simulator(devices=len(platforms), platforms=platforms, base_port=0) as sim:
        for d in sim.devices:
            name = await autodetect(
                d.host,
                d.port,
                d.username,
                d.password,
                host_key_policy="accept-new",
                known_hosts=known_hosts,
            )
            assert name == d.platform


async def test_private_key_and_keyboard_interactive_auth(make_device: MakeDevice) -> None:
    key = asyncssh.generate_private_key("ssh-ed25519")
    text = key.export_private_key().decode()
    async with Simulator(
        devices=1, platforms=["cisco_ios"], base_port=0, auth=["publickey"], authorized_keys=[key]
    ) as sim:
        d = sim.devices[0]
        async with make_device(d, password=None, private_key=text) as dev:
            assert await dev.is_alive()
        with pytest.raises(AuthenticationFailed):
            async with make_device(d):  # password only: refused
                pass
    async with (
        Simulator(
            devices=1, platforms=["cisco_ios"], base_port=0, auth=["keyboard-interactive"]
        ) as sim,
        make_device(sim.devices[0]) as dev,
    ):
        assert await dev.is_alive()


async def test_legacy_algorithms_are_opt_in(make_device: MakeDevice) -> None:
    async with Simulator(
        devices=1, platforms=["cisco_ios"], base_port=0, legacy_algorithms="only"
    ) as sim:
        d = sim.devices[0]
        with pytest.raises(ConnectError, match="legacy_algorithms"):
            async with make_device(d):
                pass
        async with make_device(d, legacy_algorithms=True) as dev:
            assert await dev.is_alive()


@pytest.fixture
async def ssh_agent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Path]:
    """A real ``ssh-agent`` on a private socket (SSH_AUTH_SOCK points at it)."""
    if shutil.which("ssh-agent") is None or shutil.which("ssh-add") is None:
        pytest.skip("ssh-agent is not installed")
    folder = Path(tempfile.mkdtemp(prefix="nf-agent-"))  # short: unix socket paths are limited
    sock = folder / "agent.sock"
    agent = await asyncio.create_subprocess_exec(
        "ssh-agent", "-D", "-a", str(sock), stdout=asyncio.subprocess.DEVNULL
    )
    try:
        async with asyncio.timeout(10):
            while not sock.exists():  # noqa: ASYNC110
                await asyncio.sleep(0.01)
        monkeypatch.setenv("SSH_AUTH_SOCK", str(sock))
        yield sock
    finally:
        agent.terminate()
        await agent.wait()
        shutil.rmtree(folder, ignore_errors=True)


async def test_agent_auth(ssh_agent: Path, tmp_path: Path, make_device: MakeDevice) -> None:
    key = asyncssh.generate_private_key("ssh-ed25519")
    key_file = tmp_path / "id_ed25519"
    key.write_private_key(str(key_file))
    key_file.chmod(0o600)
    add = await asyncio.create_subprocess_exec(
        "ssh-add", str(key_file), stderr=asyncio.subprocess.DEVNULL
    )
    assert await add.wait() == 0
    async with Simulator(
        devices=1, platforms=["cisco_ios"], base_port=0, auth=["publickey"], authorized_keys=[key]
    ) as sim:
        d = sim.devices[0]
        async with make_device(d, password=None, use_agent=True) as dev:
            assert await dev.is_alive()
        with pytest.raises(AuthenticationFailed):  # the agent is only asked when told to
            async with make_device(d, password=None):
                pass


def test_reprs_never_show_secrets() -> None:
    dev = Device(
        "127.0.0.1",
        platform="cisco_ios",
        username="u",
        password="Pw-SECRET1",
        enable_secret="En-SECRET2",
        private_key="KEY-SECRET3",
        private_key_passphrase="PP-SECRET4",
    )
    for obj in (dev, dev.spec, dev.spec.credentials[0], dev.credential, dev.timings):
        assert "SECRET" not in repr(obj)
        assert "SECRET" not in str(obj)

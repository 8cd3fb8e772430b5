"""Out of file descriptors (``EMFILE``) while connecting: a transient ``ResourceExhausted``
naming too many open files, never a fault of the device; the next connect works."""

from __future__ import annotations

import errno
from pathlib import Path

import asyncssh
import pytest

from netfleet.core.errors import ConnectError, ResourceExhausted
from netfleet.core.models import Credential
from netfleet.device import Device
from netfleet.transport.errors import translate
from netfleet.transport.hostkeys import KnownHosts
from netfleet.transport.options import ConnectOptions
from netfleet.transport.proxyjump import config_jump_host
from netfleet_sim import SimDevice, Simulator
from tests.support.descriptors import descriptors_exhausted


def _device(d: SimDevice, known_hosts: Path) -> Device:
    return Device(
        d.host, port=d.port, platform=d.platform, username=d.username,
        password=d.password, known_hosts=known_hosts, host_key_policy="accept-new",
        name=d.name,
    )  # fmt: skip


def _is_clear(exc: ResourceExhausted) -> None:
    assert exc.transient
    assert exc.kind == "resource_exhausted"
    assert "too many open files" in exc.message


def test_emfile_and_enfile_translate_to_resource_exhausted() -> None:
    for code in (errno.EMFILE, errno.ENFILE):
        err = translate(OSError(code, "x"), device="r1", address="10.0.0.1:22", phase="tcp")
        assert isinstance(err, ResourceExhausted), err
        _is_clear(err)
        assert err.device == "r1"
        assert "10.0.0.1:22" in err.message
    refused = translate(OSError(errno.EHOSTUNREACH, "No route"), device="r1",
                        address="10.0.0.1:22", phase="tcp")  # fmt: skip
    assert refused.kind == "connection_refused"


def test_a_hidden_exhaustion_is_told_by_the_process_not_the_text() -> None:
    """asyncssh turns an unreadable /etc/passwd into a ValueError ("Unknown local
    username"): ResourceExhausted while out of descriptors, a ConnectError otherwise."""
    hidden = ValueError("Unknown local username: set one of LOGNAME, USER")
    with descriptors_exhausted():
        err = translate(hidden, device="r1", address="10.0.0.1:22", phase="tcp")
    assert isinstance(err, ResourceExhausted), err
    plain = translate(hidden, device="r1", address="10.0.0.1:22", phase="tcp")
    assert type(plain) is ConnectError, plain


async def test_connecting_while_out_of_descriptors_then_again(tmp_path: Path) -> None:
    known = tmp_path / "known_hosts"
    async with Simulator(devices=1, platforms=["cisco_ios"]) as sim:
        d = sim.devices[0]
        device = _device(d, known)  # built (platforms loaded) before descriptors run out
        with descriptors_exhausted(), pytest.raises(ResourceExhausted) as caught:
            async with device:
                pass
        _is_clear(caught.value)
        assert caught.value.device == d.name
        assert d.stats.sessions_open == 0
        async with _device(d, known) as dev:  # descriptors back: it connects
            assert "Cisco IOS" in (await dev.send_command("show version")).output


def test_known_hosts_unreadable_for_lack_of_descriptors(tmp_path: Path) -> None:
    known = tmp_path / "known_hosts"
    key = asyncssh.generate_private_key("ssh-ed25519")
    KnownHosts(known).add("10.0.0.1", 22, key)
    fresh = KnownHosts(tmp_path / "other_known_hosts")
    (tmp_path / "other_known_hosts").write_bytes(known.read_bytes())
    with descriptors_exhausted(), pytest.raises(ResourceExhausted) as caught:
        fresh.lookup("10.0.0.1", 22)  # not cached yet: read now
    _is_clear(caught.value)
    assert fresh.lookup("10.0.0.1", 22)  # and read once descriptors are back


def test_an_ssh_config_unreadable_for_lack_of_descriptors(tmp_path: Path) -> None:
    config = tmp_path / "ssh_config"
    config.write_text("Host r1\n    ProxyJump admin@bastion:2222\n")
    options = ConnectOptions(host="r1", port=22, credentials=(Credential("admin"),))
    with descriptors_exhausted(), pytest.raises(ResourceExhausted) as caught:
        config_jump_host(options, config)
    _is_clear(caught.value)
    jump = config_jump_host(options, config)  # descriptors back: it is read
    assert jump is not None
    assert (jump.host, jump.port) == ("bastion", 2222)

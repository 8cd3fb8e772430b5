"""Hashed known_hosts entries found by their HMAC, with asyncssh deciding what they mean."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import asyncssh
import pytest

from netfleet.core.errors import HostKeyError, HostKeyMismatch
from netfleet.core.models import Credential, DeviceSpec
from netfleet.core.settings import ConnectSettings
from netfleet.device import Device
from netfleet.transport import KnownHosts
from netfleet.transport.hashed_hosts import HashedLines
from tests.support.sshd import RealSshd, start_sshd


def _hashed(name: str) -> str:
    """A host field as ``ssh-keygen -H`` writes it."""
    salt = os.urandom(20)
    digest = hmac.new(salt, name.encode(), hashlib.sha1).digest()
    return f"|1|{base64.b64encode(salt).decode()}|{base64.b64encode(digest).decode()}"


def _public(key: asyncssh.SSHKey) -> str:
    return key.export_public_key().decode().strip()


def _mixed_file(keys: list[asyncssh.SSHKey]) -> str:
    """Plain, hashed, wildcard, negated and @revoked entries, comments and blank lines."""
    a, b, c, d = keys
    return "".join(
        [
            "# managed by hand\n\n",
            f"{_hashed('r1')} {_public(a)}\n",
            f"{_hashed('[r1]:2222')} {_public(b)}\n",
            f"r2,10.0.0.2 {_public(b)}\n",
            f"@revoked {_hashed('r3')} {_public(c)}\n",
            f"{_hashed('r3')} {_public(d)}\n",
            f"*.lab,!bad.lab {_public(c)}\n",
            f"{_hashed('r1')} {_public(d)}\n",  # a second key for r1
            f"[r4]:830 {_public(a)}",  # no line break at the end
        ]
    )


@pytest.mark.parametrize(
    ("host", "port"),
    [
        ("r1", 22),
        ("r1", 2222),
        ("r2", 22),
        ("10.0.0.2", 22),
        ("r3", 22),
        ("x.lab", 22),
        ("bad.lab", 22),
        ("r4", 830),
        ("r4", 22),
        ("unknown", 22),
    ],
)
def test_lookups_match_asyncssh_on_the_whole_file(tmp_path: Path, host: str, port: int) -> None:
    keys = [asyncssh.generate_private_key("ssh-ed25519") for _ in range(4)]
    text = _mixed_file(keys)
    path = tmp_path / "known_hosts"
    path.write_text(text)
    pattern = host if port == 22 else f"[{host}]:{port}"
    expected = asyncssh.import_known_hosts(text).match(pattern, "", None)
    kh = KnownHosts(path)
    assert sorted(k.public_data for k in kh.lookup(host, port)) == sorted(
        k.public_data for k in expected[0]
    )
    assert sorted(k.public_data for k in kh.revoked(host, port)) == sorted(
        k.public_data for k in expected[2]
    )


def test_a_login_matches_the_hashed_entries_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Three lookups of one host (key types, revoked keys, the pin) cost one HMAC pass;
    a change of the file starts over."""
    key = asyncssh.generate_private_key("ssh-ed25519")
    path = tmp_path / "known_hosts"
    path.write_text("".join(f"{_hashed(f'[r]:{p}')} {_public(key)}\n" for p in range(1, 200)))
    passes: list[str] = []
    original = HashedLines.match

    def counted(
        self: HashedLines, pattern: str
    ) -> tuple[list[asyncssh.SSHKey], list[asyncssh.SSHKey]]:
        passes.append(pattern)
        return original(self, pattern)

    monkeypatch.setattr(HashedLines, "match", counted)
    kh = KnownHosts(path)
    for _ in range(3):
        assert kh.lookup("r", 7)
    assert kh.revoked("r", 7) == []
    assert passes == ["[r]:7"]
    kh.add("r", 9999, key)
    assert kh.lookup("r", 7)
    assert passes == ["[r]:7", "[r]:7"]


def test_a_broken_hashed_line_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "known_hosts"
    key = asyncssh.generate_private_key("ssh-ed25519")
    path.write_text(f"@bogus-marker {_hashed('r1')} {_public(key)}\n")
    with pytest.raises(HostKeyError, match=r"cannot use known_hosts .*known_hosts"):
        KnownHosts(path).lookup("r1", 22)


def _keyscan(port: int) -> str:
    """The server's ed25519 key as ``ssh-keyscan -H`` writes it for known_hosts."""
    keyscan = shutil.which("ssh-keyscan")
    if keyscan is None:
        pytest.skip("ssh-keyscan (openssh-client) is not installed")
    return subprocess.run(
        [keyscan, "-H", "-t", "ed25519", "-p", str(port), "127.0.0.1"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout


@pytest.fixture
def sshd(tmp_path: Path) -> Iterator[RealSshd]:
    server = start_sshd(tmp_path, ps1="nftest@nf-sshd:\\w$ ")
    try:
        yield server
    finally:
        server.stop()


async def test_a_file_hashed_by_ssh_keyscan_pins_a_real_sshd(
    sshd: RealSshd, tmp_path: Path
) -> None:
    """The hashed line as OpenSSH writes it (``ssh-keyscan -H``), among hashed decoys:
    netfleet connects with ``strict``, and refuses once the line is for another key."""
    scanned = _keyscan(sshd.port)
    assert scanned.startswith("|1|"), scanned
    stranger = _public(asyncssh.generate_private_key("ssh-ed25519"))
    decoys = "".join(f"{_hashed(f'[127.0.0.1]:{p}')} {stranger}\n" for p in range(1, 300))
    path = tmp_path / "known_hosts"
    path.write_text(decoys + scanned)
    spec = DeviceSpec(
        name="lab1",
        host="127.0.0.1",
        port=sshd.port,
        platform="linux",
        credentials=(Credential(username=sshd.username, private_key=sshd.client_key.read_text()),),
    )
    settings = ConnectSettings(ssh_config=None, known_hosts=path, host_key_policy="strict")
    async with Device.from_spec(spec, settings) as dev:
        assert (await dev.send_command("echo pinned")).output == "pinned"
    host_field = scanned.split()[0]
    path.write_text(decoys + f"{host_field} {stranger}\n")
    with pytest.raises(HostKeyMismatch, match=rf"host key of \[127.0.0.1\]:{sshd.port} changed"):
        async with Device.from_spec(spec, settings):
            pass

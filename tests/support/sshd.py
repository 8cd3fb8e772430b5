"""A real OpenSSH ``sshd`` on loopback for tests: own config, host key and authorized_keys.

``start_sshd(tmp_path, ps1=...)`` starts ``/usr/sbin/sshd -D -f <tmp>/sshd_config`` on a
free port, waits until it accepts connections and returns a handle whose ``stop()`` ends it.
The login shell is ``bash --norc --noprofile -i`` with the given ``PS1``. Tests skip when
sshd is absent, unless ``NETFLEET_REQUIRE_SSHD`` is set (CI), where absence fails.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import asyncssh
import pytest

SSHD = Path("/usr/sbin/sshd")


@dataclass
class RealSshd:
    port: int
    username: str
    client_key: Path
    process: subprocess.Popen[bytes]
    log: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def require_sshd() -> None:
    if SSHD.exists():
        return
    if os.environ.get("NETFLEET_REQUIRE_SSHD"):
        pytest.fail(f"{SSHD} is missing and NETFLEET_REQUIRE_SSHD is set")
    pytest.skip(f"{SSHD} is not installed (apt-get install openssh-server)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_sshd(tmp_path: Path, *, ps1: str) -> RealSshd:
    """Start sshd for the current user; its shell shows the prompt ``ps1``."""
    require_sshd()
    if os.geteuid() == 0:
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # privilege separation dir
    base = tmp_path / "sshd"
    base.mkdir()
    host_key = asyncssh.generate_private_key("ssh-ed25519")
    host_key.write_private_key(base / "host_key")
    os.chmod(base / "host_key", 0o600)
    client = asyncssh.generate_private_key("ssh-ed25519")
    client.write_private_key(base / "client_key")
    os.chmod(base / "client_key", 0o600)
    client.write_public_key(base / "authorized_keys")
    shell = f"env PS1={shlex.quote(ps1)} /bin/bash --norc --noprofile -i"
    port = _free_port()
    (base / "sshd_config").write_text(
        f"Port {port}\nListenAddress 127.0.0.1\nHostKey {base / 'host_key'}\n"
        f"PidFile {base / 'sshd.pid'}\nAuthorizedKeysFile {base / 'authorized_keys'}\n"
        "PasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\n"
        "StrictModes no\nPermitRootLogin prohibit-password\nPrintMotd no\nPrintLastLog no\n"
        f"ForceCommand {shell}\nLogLevel ERROR\n",
        encoding="utf-8",
    )
    log = base / "sshd.log"
    with log.open("wb") as log_file:
        process = subprocess.Popen(
            [str(SSHD), "-D", "-e", "-f", str(base / "sshd_config")],
            stdout=subprocess.DEVNULL,
            stderr=log_file,
        )
    server = RealSshd(port, _username(), base / "client_key", process, log)
    deadline = time.monotonic() + 20
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"sshd exited: {log.read_text(errors='replace')}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
            return server
        if time.monotonic() > deadline:
            server.stop()
            raise RuntimeError("sshd did not start listening within 20s")
        process_wait(process)


def process_wait(process: subprocess.Popen[bytes]) -> None:
    """Block briefly on the process (no sleep): returns when it exits or after 50 ms."""
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=0.05)


def _username() -> str:
    import pwd

    return pwd.getpwuid(os.geteuid()).pw_name

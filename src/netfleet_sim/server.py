"""The SSH side of a simulated device: listeners, algorithms, authentication, vty lines.

Every device listens on its own 127.0.0.1 port; all listeners share one
``SSHServerConnectionOptions`` and find their device from the local port.

Session limits (vty lines): a line is taken when the TCP connection arrives
and released when it closes. A connection that finds every line busy gets
through the key exchange and is then disconnected at its first
authentication request with SSH ``DISCONNECT`` reason 12
(too many connections) and the message ``% All lines are busy``.
``refuse_sessions`` (and a rebooting device) instead close the TCP
connection straight away, before the SSH version exchange.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable, Mapping
from typing import Literal

import asyncssh
from asyncssh.auth import KbdIntChallenge, KbdIntResponse

from netfleet_sim.device import ConnInfo, SimDevice
from netfleet_sim.session import start_session

LegacyMode = bool | Literal["only"]

MODERN_ALGS: dict[str, list[str]] = {
    "kex_algs": [
        "curve25519-sha256",
        "curve25519-sha256@libssh.org",
        "ecdh-sha2-nistp256",
        "ecdh-sha2-nistp384",
        "ecdh-sha2-nistp521",
        "diffie-hellman-group14-sha256",
        "diffie-hellman-group16-sha512",
        "diffie-hellman-group-exchange-sha256",
    ],
    "encryption_algs": [
        "chacha20-poly1305@openssh.com",
        "aes256-gcm@openssh.com",
        "aes128-gcm@openssh.com",
        "aes256-ctr",
        "aes192-ctr",
        "aes128-ctr",
    ],
    "mac_algs": [
        "hmac-sha2-256-etm@openssh.com",
        "hmac-sha2-512-etm@openssh.com",
        "hmac-sha2-256",
        "hmac-sha2-512",
    ],
    "signature_algs": ["ssh-ed25519", "rsa-sha2-512", "rsa-sha2-256"],
}
LEGACY_ALGS: dict[str, list[str]] = {
    "kex_algs": [
        "diffie-hellman-group14-sha1",
        "diffie-hellman-group-exchange-sha1",
        "diffie-hellman-group1-sha1",
    ],
    "encryption_algs": ["aes128-cbc", "aes256-cbc", "3des-cbc"],
    "mac_algs": ["hmac-sha1"],
    "signature_algs": ["ssh-rsa"],
}

BUSY_MESSAGE = "% All lines are busy"
KBDINT_PROMPT = "Password: "


def algorithm_options(legacy: LegacyMode) -> dict[str, list[str]]:
    """The algorithm lists: modern, modern plus legacy (True), or legacy only ("only")."""
    if legacy == "only":
        return {k: list(v) for k, v in LEGACY_ALGS.items()}
    if legacy:
        return {k: MODERN_ALGS[k] + LEGACY_ALGS[k] for k in MODERN_ALGS}
    return {k: list(v) for k, v in MODERN_ALGS.items()}


class DeviceServer(asyncssh.SSHServer):
    """One SSH connection to a simulated device (authentication and session requests)."""

    def __init__(self, by_port: Mapping[int, SimDevice]) -> None:
        self._by_port = by_port
        self._device: SimDevice | None = None
        self._conn: asyncssh.SSHServerConnection | None = None
        self._has_line = False
        self._key_rejected = False
        self._info: ConnInfo | None = None

    # -- connection lifecycle -------------------------------------------------
    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self._conn = conn
        sockname = conn.get_extra_info("sockname")
        device = self._by_port.get(sockname[1]) if sockname else None
        self._device = device
        if device is None:
            return
        self._info = device.add_connection(conn)
        self._has_line = self._info.line = device.take_line()

    def connection_lost(self, exc: Exception | None) -> None:
        device = self._device
        if device is None:
            return
        if self._conn is not None:
            device.discard_connection(self._conn)
        if self._has_line:
            device.release_line()
            self._has_line = False

    # -- authentication --------------------------------------------------------
    async def begin_auth(self, username: str) -> bool:
        device, conn = self._device, self._conn
        if device is None or conn is None:
            return True
        if not self._has_line:
            conn.disconnect(asyncssh.DISC_TOO_MANY_CONNECTIONS, BUSY_MESSAGE)
            return True
        delay = device.login_delay_s()
        if delay > 0:
            await asyncio.sleep(delay)
        banner = device.platform_sim.ssh_banner(device.state)
        if banner:
            conn.send_auth_banner(banner.replace("\n", "\r\n"))
        return True

    def _methods(self) -> frozenset[str]:
        return self._device.settings.auth_methods if self._device else frozenset()

    def _check(self, username: str, password: str) -> bool:
        device = self._device
        if device is None:
            return False
        ok = (
            not device.faults.refuse_auth
            and username == device.username
            and password == device.password
        )
        if not ok:
            device.count_login_failure()
        return ok

    def password_auth_supported(self) -> bool:
        return "password" in self._methods()

    def validate_password(self, username: str, password: str) -> bool:
        return self._check(username, password)

    def kbdint_auth_supported(self) -> bool:
        return "keyboard-interactive" in self._methods()

    def get_kbdint_challenge(self, username: str, lang: str, submethods: str) -> KbdIntChallenge:
        return "", "", "", [(KBDINT_PROMPT, False)]

    def validate_kbdint_response(self, username: str, responses: KbdIntResponse) -> KbdIntChallenge:
        answer = responses[0] if len(responses) == 1 else ""
        return self._check(username, answer)

    def public_key_auth_supported(self) -> bool:
        device = self._device
        return device is not None and "publickey" in self._methods()

    def validate_public_key(self, username: str, key: asyncssh.SSHKey) -> bool:
        device = self._device
        if device is None:
            return False
        ok = (
            not device.faults.refuse_auth
            and username == device.username
            and key.public_data in device.settings.authorized_keys
        )
        if not ok and not self._key_rejected:
            self._key_rejected = True
            device.count_login_failure()
        return ok

    def auth_completed(self) -> None:
        if self._device is not None:
            self._device.count_login()
        if self._info is not None:
            self._info.authenticated = True

    # -- sessions -----------------------------------------------------------------
    def session_requested(self) -> asyncssh.SSHServerSessionFactory | bool:
        device, conn = self._device, self._conn
        if device is None or conn is None:
            return False
        if self._info is not None:
            self._info.channels += 1
        return start_session(device, conn)


class _Refuse(asyncio.Protocol):
    """Accepts a TCP connection and closes it at once (no SSH banner)."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        transport.close()


def connection_factory(
    device: SimDevice, options: asyncssh.SSHServerConnectionOptions
) -> Callable[[], asyncio.BaseProtocol]:
    """The TCP protocol factory for ``device``'s listener."""
    loop = asyncio.get_running_loop()

    def factory() -> asyncio.BaseProtocol:
        if device.faults.refuse_sessions or device.is_down():
            device.count_refused()
            return _Refuse()
        return asyncssh.SSHServerConnection(loop, options)

    return factory


def bind_socket(host: str, port: int, backlog: int = 128) -> socket.socket:
    """A listening, non-blocking TCP socket on ``host:port`` (raises OSError when taken)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(backlog)
        sock.setblocking(False)
    except OSError:
        sock.close()
        raise
    return sock

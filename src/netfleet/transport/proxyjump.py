"""``ProxyJump`` from the OpenSSH client config: the jump host a device is reached through.

``config_jump_host(options)`` reads the config (``ConnectOptions.ssh_config``) as ssh does
for the device's host alias: ``ProxyJump [user@]host[:port]`` names the jump host; its
own ``Host`` entry then supplies ``Hostname``, ``Port``, ``User`` and ``IdentityFile``
(asyncssh applies them when the jump connection is opened with the same config). The
jump connection is netfleet's own (shared, refcounted, under the device's host-key
policy and timeouts), not asyncssh's, so the jump host's key is checked as every key is.
One hop is supported; a chain (``a,b``) is a clear error.
"""

from __future__ import annotations

import getpass
from pathlib import Path

from asyncssh.config import SSHClientConfig

from netfleet.core.descriptors import TOO_MANY_OPEN_FILES, is_exhaustion
from netfleet.core.errors import InputError, ResourceExhausted
from netfleet.core.models import Credential, JumpHost
from netfleet.transport.options import ConnectOptions

_CACHE: dict[tuple[str, int, str, int], tuple[str | None, str | None]] = {}
_CACHE_MAX = 4096


def _lookup(path: Path, host: str, port: int) -> tuple[str | None, str | None]:
    """(ProxyJump, User) the config gives ``host``, cached per file version."""
    try:
        mtime = path.stat().st_mtime_ns
    except OSError:
        return None, None
    key = (str(path), mtime, host, port)
    hit = _CACHE.get(key)
    if hit is None:
        try:
            config = SSHClientConfig.load(
                None, [path], False, False, False, _local_user(), (), host, port or ()
            )
        except (OSError, ValueError) as exc:
            if is_exhaustion(exc):
                raise ResourceExhausted(
                    f"cannot read ssh config {path}: {TOO_MANY_OPEN_FILES} in this process"
                ) from None
            raise InputError(f"ssh config {path}: {exc}") from None
        jump = config.get("ProxyJump")
        user = config.get("User")
        hit = (
            jump if isinstance(jump, str) else None,
            user if isinstance(user, str) else None,
        )
        if len(_CACHE) >= _CACHE_MAX:
            _CACHE.clear()
        _CACHE[key] = hit
    return hit


def _local_user() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return ""


def config_jump_host(options: ConnectOptions, config: Path | None) -> JumpHost | None:
    """The jump host ``config`` names for ``options.host`` (None: none, or ``none``)."""
    if config is None or options.jump_host is not None:
        return None
    jump, _ = _lookup(config, options.host, 0 if options.port == 22 else options.port)
    if not jump or jump.strip().lower() == "none":
        return None
    if "," in jump:
        raise InputError(
            f"{options.label}: ProxyJump {jump!r} in {config} is a chain of jump hosts; "
            "netfleet supports one (give the last hop its own ProxyJump-free entry)"
        )
    user, at, rest = jump.strip().rpartition("@")
    host, colon, port_text = rest.rpartition(":") if rest.count(":") == 1 else (rest, "", "")
    if colon:
        try:
            port = int(port_text)
        except ValueError:
            raise InputError(
                f"{options.label}: ProxyJump {jump!r} in {config}: bad port {port_text!r}"
            ) from None
    else:
        port = 22  # the jump host's own entry (Port) applies
    if not at:
        user = _lookup(config, host, 0 if port == 22 else port)[1] or _local_user()
    if not host or not user:
        raise InputError(f"{options.label}: ProxyJump {jump!r} in {config}: no host or user")
    return JumpHost(
        host=host,
        port=port,
        credential=Credential(username=user, name=f"ssh config user {user}", use_agent=True),
        host_key_policy=options.host_key_policy,
    )

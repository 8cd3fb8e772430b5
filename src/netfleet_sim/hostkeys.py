"""SSH host keys: one Ed25519 and one RSA key shared by every simulated device.

By default the keys live in a directory (``--state-dir`` if given, else
``$NETFLEET_SIM_KEY_DIR``, else ``$XDG_CACHE_HOME/netfleet-sim``, else
``~/.cache/netfleet-sim``) and are reused on every start, so clients' known-hosts pins
stay valid when ``netfleet sim`` is restarted on the same ports. Ephemeral keys are
generated once per process and never written.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import asyncssh

from netfleet_sim.errors import SimulatorError

KEY_FILES = (("ssh-ed25519", "ssh_host_ed25519_key"), ("ssh-rsa", "ssh_host_rsa_key"))
KEY_DIR_ENV = "NETFLEET_SIM_KEY_DIR"

_process_keys: list[asyncssh.SSHKey] | None = None
_loaded: dict[Path, list[asyncssh.SSHKey]] = {}


def default_key_dir() -> Path:
    """Where host keys are kept when no directory is given."""
    explicit = os.environ.get(KEY_DIR_ENV, "").strip()
    if explicit:
        return Path(explicit).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME", "").strip()
    base = Path(cache).expanduser() if cache else Path.home() / ".cache"
    return base / "netfleet-sim"


def _generate(alg: str) -> asyncssh.SSHKey:
    if alg == "ssh-rsa":
        return asyncssh.generate_private_key(alg, key_size=2048)
    return asyncssh.generate_private_key(alg)


def host_keys(key_dir: Path | None) -> list[asyncssh.SSHKey]:
    """The host keys (Ed25519 first, then RSA): ephemeral when ``key_dir`` is None,
    else loaded from (or created once in) ``key_dir``."""
    global _process_keys
    if key_dir is None:
        if _process_keys is None:
            _process_keys = [_generate(alg) for alg, _ in KEY_FILES]
        return _process_keys
    key_dir = key_dir.expanduser().absolute()
    cached = _loaded.get(key_dir)
    if cached is not None and all((key_dir / name).exists() for _, name in KEY_FILES):
        return cached
    keys = [_load_or_create(key_dir, alg, name) for alg, name in KEY_FILES]
    _loaded[key_dir] = keys
    return keys


def _load_or_create(key_dir: Path, alg: str, filename: str) -> asyncssh.SSHKey:
    path = key_dir / filename
    try:
        if path.exists():
            return asyncssh.read_private_key(path)
        key = _generate(alg)
        key_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = key_dir / f".{filename}.{os.getpid()}.tmp"
        key.write_private_key(tmp)
        os.chmod(tmp, 0o600)
        try:
            os.link(tmp, path)  # never replaces a key another process created meanwhile
        except FileExistsError:
            return asyncssh.read_private_key(path)
        finally:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
        key.write_public_key(key_dir / f"{filename}.pub")
        return key
    except (OSError, asyncssh.KeyImportError) as exc:
        raise SimulatorError(f"cannot load or create host key {path}: {exc}") from None

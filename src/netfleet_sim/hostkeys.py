"""SSH host keys: one Ed25519 and one RSA key shared by every simulated device.

With a state directory the keys are stored there and reused on restart (so
clients' known-hosts entries stay valid); without one they are generated once
per process.
"""

from __future__ import annotations

import os
from pathlib import Path

import asyncssh

from netfleet_sim.errors import SimulatorError

KEY_FILES = (("ssh-ed25519", "ssh_host_ed25519_key"), ("ssh-rsa", "ssh_host_rsa_key"))

_process_keys: list[asyncssh.SSHKey] | None = None


def _generate(alg: str) -> asyncssh.SSHKey:
    if alg == "ssh-rsa":
        return asyncssh.generate_private_key(alg, key_size=2048)
    return asyncssh.generate_private_key(alg)


def host_keys(state_dir: Path | None) -> list[asyncssh.SSHKey]:
    """The host keys (Ed25519 first, then RSA), loaded from or saved to ``state_dir``."""
    global _process_keys
    if state_dir is None:
        if _process_keys is None:
            _process_keys = [_generate(alg) for alg, _ in KEY_FILES]
        return _process_keys
    keys = []
    for alg, filename in KEY_FILES:
        path = state_dir / filename
        try:
            if path.exists():
                keys.append(asyncssh.read_private_key(path))
                continue
            key = _generate(alg)
            state_dir.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            key.write_private_key(tmp)
            os.chmod(tmp, 0o600)
            tmp.replace(path)
            key.write_public_key(state_dir / f"{filename}.pub")
            keys.append(key)
        except (OSError, asyncssh.KeyImportError) as exc:
            raise SimulatorError(f"cannot load or create host key {path}: {exc}") from None
    return keys

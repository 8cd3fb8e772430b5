"""Encryption of secrets at rest (Fernet), and the key's source.

The key comes from ``settings.secret_key`` (``NETFLEET_SECRET_KEY``), else a key
file (``settings.service.key_file``) created with mode 0600 on first use.
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from netfleet.core.errors import ConfigurationError, StoreError
from netfleet.core.settings import Settings


class SecretBox:
    """Encrypts and decrypts secret strings with one Fernet key. Never shows the key."""

    __slots__ = ("_fernet",)

    def __init__(self, key: str | bytes) -> None:
        try:
            self._fernet = Fernet(key.encode() if isinstance(key, str) else key)
        except (ValueError, TypeError):
            raise ConfigurationError(
                "secret key is not a valid Fernet key (32 url-safe base64-encoded bytes); "
                "generate one with: python -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())'"
            ) from None

    def __repr__(self) -> str:
        return "SecretBox(<key hidden>)"

    def encrypt(self, value: str | None) -> str | None:
        if value is None:
            return None
        return self._fernet.encrypt(value.encode()).decode("ascii")

    def decrypt(self, token: str | None, *, what: str = "secret") -> str | None:
        if token is None:
            return None
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode()
        except InvalidToken:
            raise StoreError(
                f"cannot decrypt {what}: the secret key differs from the one it was stored with"
            ) from None


def load_key(settings: Settings) -> bytes:
    """The configured key, or the key file's (created 0600 on first use)."""
    configured = settings.secret_key
    if configured:
        return configured.encode()
    return key_from_file(settings.service.key_file)


def key_from_file(path: Path) -> bytes:
    """Read the key in ``path``; create it (parents 0700, file 0600) if missing."""
    path = path.expanduser()
    try:
        return path.read_bytes().strip()
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise ConfigurationError(f"cannot read secret key file {path}: {exc.strerror}") from None
    key = Fernet.generate_key()
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_bytes().strip()
    except OSError as exc:
        raise ConfigurationError(f"cannot create secret key file {path}: {exc.strerror}") from None
    with os.fdopen(fd, "wb") as fh:
        fh.write(key + b"\n")
    return key

"""Secret references: a credential value that names where the secret is, not the secret.

A password, enable secret, private key or passphrase may be written as

* ``env:NAME`` — the environment variable ``NAME`` (of the process that logs in);
* ``file:/path`` — the file's contents (one trailing newline dropped). Like ssh with
  key files, a file readable or writable by group or others, or owned by another
  user (other than root), is refused;
* ``exec:/path/helper ARG ...`` — what the helper prints on stdout (one trailing
  newline dropped), like a git credential helper. No shell is involved (the line is
  split like a shell would, without expansion); the helper must exit 0 within
  ``[secrets] exec_timeout_seconds`` and print at most ``[secrets] max_bytes``. Its
  stderr is never shown, as it may carry secrets.

Anything else is a literal value (so a literal password that happens to look like
``env:X`` must be put in a file and referenced with ``file:``). References are
resolved at login time (``resolve_login``), kept in memory for ``[secrets]
cache_seconds``, registered with the log redactor and never written anywhere. A
failure raises ``SecretUnavailable`` (not transient: no login is attempted), or
``ResourceExhausted`` (transient) when this process is out of file descriptors.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import re
import shlex
import signal
import stat
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from netfleet.core.descriptors import TOO_MANY_OPEN_FILES, is_exhaustion
from netfleet.core.errors import ResourceExhausted, SecretUnavailable
from netfleet.core.logging import register_secret
from netfleet.core.models import Credential, JumpHost
from netfleet.core.settings import SecretSettings

Scheme = Literal["env", "file", "exec"]
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True, slots=True)
class SecretRef:
    """A parsed reference; its text is not secret (a name, a path or a helper command)."""

    scheme: Scheme
    target: str

    def __str__(self) -> str:
        return f"{self.scheme}:{self.target}"


def parse_ref(value: str) -> SecretRef | None:
    """The reference ``value`` spells, or None when it is a literal value."""
    scheme, sep, target = value.partition(":")
    if not sep:
        return None
    if scheme == "env" and _ENV_NAME.fullmatch(target):
        return SecretRef("env", target)
    if scheme == "file" and target.startswith(("/", "~")) and "\n" not in target:
        return SecretRef("file", target)
    if scheme == "exec" and target.strip().startswith(("/", "~")) and "\n" not in target:
        return SecretRef("exec", target.strip())
    return None


def is_reference(value: str | None) -> bool:
    """True when ``value`` is a secret reference rather than a literal secret."""
    return value is not None and parse_ref(value) is not None


class _Hidden:
    """A resolved value that never shows in a repr."""

    __slots__ = ("value",)

    def __init__(self, value: str) -> None:
        self.value = value

    def __repr__(self) -> str:
        return "<secret>"


def _strip_newline(text: str) -> str:
    if text.endswith("\r\n"):
        return text[:-2]
    return text[:-1] if text.endswith("\n") else text


def _read_file(ref: SecretRef, max_bytes: int) -> str:
    path = Path(ref.target).expanduser()
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise ValueError("the file does not exist") from None
    except OSError as exc:
        raise ValueError(f"cannot open the file: {exc.strerror}") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise ValueError("not a regular file")
        if st.st_mode & 0o077:
            raise ValueError(
                f"permissions {stat.S_IMODE(st.st_mode):04o} are too open: the file must not "
                "be accessible by group or others (chmod 600)"
            )
        if st.st_uid not in (os.getuid(), 0):
            raise ValueError(f"the file is owned by uid {st.st_uid}, not by this user")
        data = os.read(fd, max_bytes + 1)
    finally:
        os.close(fd)
    if len(data) > max_bytes:
        raise ValueError(f"the file is larger than {max_bytes} bytes")
    try:
        return data.decode()
    except UnicodeDecodeError:
        raise ValueError("the file is not UTF-8 text") from None


async def _read_bounded(stream: asyncio.StreamReader, limit: int) -> tuple[bytes, bool]:
    """Up to ``limit`` bytes of ``stream`` and whether there was more (the rest is drained)."""
    data = bytearray()
    over = False
    while chunk := await stream.read(65536):
        if len(data) + len(chunk) > limit:
            over = True
            data.extend(chunk[: max(0, limit - len(data))])
        else:
            data.extend(chunk)
    return bytes(data), over


def _executable(path: str) -> bool:
    return os.path.isfile(path) and os.access(path, os.X_OK)


async def _run_helper(ref: SecretRef, timeout: float, max_bytes: int) -> str:
    try:
        argv = shlex.split(ref.target)
    except ValueError as exc:
        raise ValueError(f"cannot split the helper command line: {exc}") from None
    argv[0] = await asyncio.to_thread(os.path.expanduser, argv[0])
    if not await asyncio.to_thread(_executable, argv[0]):
        raise ValueError(f"the helper {argv[0]} does not exist or is not executable")
    proc = await asyncio.create_subprocess_exec(
        *argv,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        start_new_session=True,
    )
    assert proc.stdout is not None
    assert proc.stderr is not None
    try:
        async with asyncio.timeout(timeout):
            (out, over), _, code = await asyncio.gather(
                _read_bounded(proc.stdout, max_bytes),
                _read_bounded(proc.stderr, 0),
                proc.wait(),
            )
    except TimeoutError:
        raise ValueError(f"the helper did not finish within {timeout:g} s") from None
    finally:
        if proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            await proc.wait()
    if code != 0:
        raise ValueError(f"the helper exited with status {code} (its stderr is not shown)")
    if over:
        raise ValueError(f"the helper printed more than {max_bytes} bytes")
    try:
        return out.decode()
    except UnicodeDecodeError:
        raise ValueError("the helper printed something that is not UTF-8 text") from None


class SecretResolver:
    """Resolves references, caching each resolved value for ``cache_seconds``."""

    def __init__(
        self,
        settings: SecretSettings | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings or SecretSettings()
        self._clock = clock
        self._cache: dict[str, tuple[float, _Hidden]] = {}
        self._inflight: dict[str, asyncio.Future[_Hidden]] = {}
        self.resolutions = 0
        """References actually looked up (cache misses), for tests and stats."""

    def __repr__(self) -> str:
        return f"SecretResolver(cached={len(self._cache)})"

    def configure(self, settings: SecretSettings) -> None:
        """Use new settings; cached values are dropped."""
        self.settings = settings
        self.clear()

    def clear(self) -> None:
        """Forget every cached value."""
        self._cache.clear()

    async def resolve(
        self, value: str | None, *, what: str = "secret", device: str = ""
    ) -> str | None:
        """``value`` itself when it is a literal (or None), else what it refers to."""
        if value is None:
            return None
        ref = parse_ref(value)
        if ref is None:
            return value
        now = self._clock()
        hit = self._cache.get(value)
        if hit is not None and hit[0] > now:
            return hit[1].value
        loop = asyncio.get_running_loop()
        pending = self._inflight.get(value)
        if pending is None or pending.get_loop() is not loop:
            pending = loop.create_future()
            self._inflight[value] = pending
            try:
                hidden = _Hidden(await self._lookup(ref, what, device))
            except BaseException as exc:
                if isinstance(exc, asyncio.CancelledError):
                    pending.cancel()  # waiters look it up themselves
                else:
                    pending.set_exception(exc)
                    pending.exception()  # retrieved here; other waiters re-raise it
                raise
            finally:
                if self._inflight.get(value) is pending:
                    del self._inflight[value]
            register_secret(hidden.value)
            if self.settings.cache_seconds > 0:
                self._cache[value] = (self._clock() + self.settings.cache_seconds, hidden)
            pending.set_result(hidden)
            return hidden.value
        try:
            return (await asyncio.shield(pending)).value
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if not pending.cancelled() or (task is not None and task.cancelling()):
                raise
        return await self.resolve(value, what=what, device=device)

    async def _lookup(self, ref: SecretRef, what: str, device: str) -> str:
        self.resolutions += 1
        limit = self.settings.max_bytes
        try:
            if ref.scheme == "env":
                raw = os.environ.get(ref.target)
                if raw is None:
                    raise ValueError("the environment variable is not set")
                text = raw
            elif ref.scheme == "file":
                text = await asyncio.to_thread(_read_file, ref, limit)
            else:
                text = await _run_helper(ref, self.settings.exec_timeout_seconds, limit)
        except (ValueError, OSError) as exc:
            if is_exhaustion(exc):  # transient: this process, not the reference
                raise ResourceExhausted(
                    f"{what} reference {ref}: {TOO_MANY_OPEN_FILES} in this process",
                    device=device,
                ) from None
            if isinstance(exc, ValueError):
                raise SecretUnavailable(f"{what} reference {ref}: {exc}", device=device) from None
            raise SecretUnavailable(
                f"{what} reference {ref}: {exc.strerror or type(exc).__name__}", device=device
            ) from None
        text = _strip_newline(text)
        if not text:
            raise SecretUnavailable(f"{what} reference {ref}: the value is empty", device=device)
        return text

    async def resolve_credential(self, cred: Credential, *, device: str = "") -> Credential:
        """``cred`` with every referenced secret replaced by its value."""
        label = cred.name or cred.username
        changes: dict[str, str | None] = {}
        for field_name in ("password", "private_key", "private_key_passphrase", "enable_secret"):
            value: str | None = getattr(cred, field_name)
            if is_reference(value):
                what = f"credential {label!r}: {field_name.replace('_', ' ')}"
                changes[field_name] = await self.resolve(value, what=what, device=device)
        return dataclasses.replace(cred, **changes) if changes else cred  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class ResolvedLogin:
    """What one login uses, with every reference resolved. ``repr`` shows no secret."""

    credentials: tuple[Credential, ...]
    jump_host: JumpHost | None
    enable_secret: str | None = dataclasses.field(repr=False)

    def secrets(self) -> list[str]:
        """Every resolved secret value, for redaction."""
        found = [s for c in self.credentials for s in c.secrets()]
        if self.jump_host is not None and self.jump_host.credential is not None:
            found.extend(self.jump_host.credential.secrets())
        if self.enable_secret:
            found.append(self.enable_secret)
        return found


SECRETS = SecretResolver()
"""The process-wide resolver; ``configure_secrets`` applies the ``[secrets]`` settings."""


def configure_secrets(settings: SecretSettings) -> None:
    """Apply the ``[secrets]`` settings to the process-wide resolver."""
    SECRETS.configure(settings)


async def resolve_login(
    credentials: Sequence[Credential],
    jump_host: JumpHost | None,
    enable_secret: str | None,
    *,
    device: str = "",
    resolver: SecretResolver | None = None,
) -> ResolvedLogin:
    """Resolve every reference a login needs (all credentials, the jump host's, the enable
    secret) before any connection is made; raise ``SecretUnavailable`` naming the first
    that fails."""
    r = resolver or SECRETS
    creds = tuple([await r.resolve_credential(c, device=device) for c in credentials])
    jump = jump_host
    if jump is not None and jump.credential is not None:
        jcred = await r.resolve_credential(jump.credential, device=f"{device} (jump host)")
        if jcred is not jump.credential:
            jump = dataclasses.replace(jump, credential=jcred)
    enable = await r.resolve(enable_secret, what="enable secret", device=device)
    return ResolvedLogin(creds, jump, enable)


__all__ = [
    "SECRETS",
    "ResolvedLogin",
    "SecretRef",
    "SecretResolver",
    "configure_secrets",
    "is_reference",
    "parse_ref",
    "resolve_login",
]

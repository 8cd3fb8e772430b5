"""The redactor a session masks device text with: platform rules plus known secret values."""

from __future__ import annotations

from netfleet.core.models import DeviceSpec
from netfleet.core.redact import Redactor
from netfleet.platforms.secrets import redactor_for


def maskable(spec: DeviceSpec, values: list[str | None]) -> list[str]:
    """The secret values to mask by value: a password equal to a login name is not
    secret (the device prints its users' names: prompts, ``whoami``, ``show users``)."""
    names = {c.username for c in spec.credentials}
    return [v for v in values if v and v not in names]


def session_redactor(platform: str, spec: DeviceSpec, *extra: str | None) -> Redactor:
    """A redactor for ``spec``'s device: its credentials' secrets and ``extra`` values
    (the enable secret, secrets resolved from references at login)."""
    known = [v for c in spec.credentials for v in c.secrets()]
    return redactor_for(platform, maskable(spec, [*known, *extra]))


class StreamMask:
    """Masks a reply's output while it streams in, in runs of complete lines (a channel
    read's ``sink``), so that little is left to mask when the prompt comes. Masking is
    line by line, so the runs masked apart give what the whole text masked at once does."""

    __slots__ = ("_parts", "_redactor", "_size")

    def __init__(self, redactor: Redactor) -> None:
        self._redactor = redactor
        self._parts: list[str] = []
        self._size = 0

    def __call__(self, text: str) -> None:
        self._parts.append(self._redactor.redact(text))
        self._size += len(text)

    async def finish(self, body: str) -> str:
        """``body`` (the text the read returned, of which the runs masked so far are a
        start) masked, less one last line break (as the session's output): the masked
        runs joined once, and only the last one cut (masking keeps line breaks)."""
        parts = self._parts
        rest = body[self._size :]
        if rest:
            parts.append(await self._redactor.aredact(rest))
        if body.endswith("\n") and parts:
            parts[-1] = parts[-1][:-1]
        return "".join(parts)  # one copy of the whole output

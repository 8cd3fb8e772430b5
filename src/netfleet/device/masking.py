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

    async def finish(self, output: str) -> str:
        """``output`` masked; it is the text the read returned, less at most its last
        line break (which masking leaves as it is)."""
        extra = self._size - len(output)
        if extra > 0:
            return "".join(self._parts)[:-extra]
        rest = output[self._size :]
        if rest:
            self._parts.append(await self._redactor.aredact(rest))
        return "".join(self._parts)  # one copy of the whole output

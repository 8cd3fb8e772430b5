"""Start-up checks of the worker and the service (``worker.startup``)."""

from __future__ import annotations

from typing import Any, cast

from netfleet.core.errors import DatabaseUnavailable
from netfleet.store import SqlStore
from netfleet.worker.startup import AUTOVACUUM_OFF, warn_autovacuum_off


class _Store:
    def __init__(self, answer: bool | Exception) -> None:
        self.answer = answer

    async def autovacuum_off(self) -> bool:
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


class _Log:
    def __init__(self) -> None:
        self.warnings: list[str] = []

    def warning(self, event: str, **_: Any) -> None:
        self.warnings.append(event)


async def test_warns_when_autovacuum_is_off() -> None:
    log = _Log()
    assert await warn_autovacuum_off(cast(SqlStore, _Store(True)), log)
    assert log.warnings == [AUTOVACUUM_OFF]


async def test_silent_when_autovacuum_is_on_or_unknown() -> None:
    log = _Log()
    assert not await warn_autovacuum_off(cast(SqlStore, _Store(False)), log)
    assert not await warn_autovacuum_off(cast(SqlStore, _Store(DatabaseUnavailable("down"))), log)
    assert log.warnings == []

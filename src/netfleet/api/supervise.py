"""Supervision of the loops embedded in ``netfleet serve``: restart with backoff.

``Supervisor.keep(name, run)`` runs ``run()`` until the stop event is set. When it
raises (a crash, e.g. ``OSError: [Errno 24] Too many open files``) or returns before
the stop, the component is *down*: the crash is logged, ``down()`` names it with the
reason (``/readyz`` answers 503 while anything is down), and it is started again
after a delay that doubles per crash in a row (``service.restart_backoff_seconds``
up to ``restart_backoff_max_seconds``). A restarted component counts as up again
once it has run ``restart_settle_seconds`` without crashing.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from netfleet.core.logging import get_logger

log = get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Backoffs:
    first_s: float = 1.0
    max_s: float = 60.0
    settle_s: float = 5.0


class Supervisor:
    """Keeps named components running until ``stop`` is set."""

    def __init__(self, stop: asyncio.Event, backoffs: Backoffs | None = None) -> None:
        self._stop = stop
        self.backoffs = backoffs or Backoffs()
        self._down: dict[str, str] = {}
        self.restarts: Counter[str] = Counter()
        """Restarts per component since start."""

    def down(self) -> dict[str, str]:
        """The components that are down now, with why (empty: all up)."""
        return dict(self._down)

    async def keep(self, name: str, run: Callable[[], Awaitable[None]]) -> None:
        """Run ``run()`` as component ``name``, restarting it after crashes, until stop."""
        delay = self.backoffs.first_s
        loop = asyncio.get_running_loop()
        while True:
            started = time.monotonic()
            settle = loop.call_later(self.backoffs.settle_s, self._settled, name)
            try:
                await run()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # any crash of the loop is restarted
                reason = f"{type(exc).__name__}: {exc}"
                failure: BaseException | None = exc
            else:
                reason, failure = "stopped unexpectedly", None
            finally:
                settle.cancel()
            if self._stop.is_set():
                self._down.pop(name, None)
                return
            if time.monotonic() - started >= max(self.backoffs.settle_s, delay):
                delay = self.backoffs.first_s  # it had run fine for a while: not a crash loop
            self._down[name] = reason
            self.restarts[name] += 1
            log.error(
                "embedded component down; restarting",
                component=name,
                error=reason,
                restart_in_s=round(delay, 3),
                restarts=self.restarts[name],
                exc_info=failure,
            )
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(delay):
                    await self._stop.wait()
            if self._stop.is_set():
                self._down.pop(name, None)
                return
            delay = min(delay * 2, self.backoffs.max_s)
            log.info("restarting embedded component", component=name)

    def _settled(self, name: str) -> None:
        """``name`` has run ``settle_s`` since its last (re)start without crashing."""
        if self._down.pop(name, None) is not None:
            log.info("embedded component up again", component=name)

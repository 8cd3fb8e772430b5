"""Signals: the first SIGTERM/SIGINT drains the worker, a second one stops it at once."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable, Iterator

from netfleet.core.logging import get_logger

log = get_logger(__name__)

SIGNALS = (signal.SIGTERM, signal.SIGINT)


@contextlib.contextmanager
def shutdown_signals(graceful: Callable[[], None], immediate: Callable[[], None]) -> Iterator[None]:
    """Route SIGTERM/SIGINT to ``graceful`` (first) and ``immediate`` (again) while inside."""
    loop = asyncio.get_running_loop()
    received: list[int] = []

    def handle(signum: int) -> None:
        received.append(signum)
        name = signal.Signals(signum).name
        if len(received) == 1:
            log.info("signal received: draining", signal=name)
            graceful()
        else:
            log.warning("signal received again: stopping now", signal=name)
            immediate()

    installed = []
    for sig in SIGNALS:
        try:
            loop.add_signal_handler(sig, handle, sig)
            installed.append(sig)
        except (NotImplementedError, RuntimeError):  # pragma: no cover - not main thread/POSIX
            pass
    try:
        yield
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)

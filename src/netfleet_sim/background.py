"""Run a :class:`Simulator` on its own event loop in a background thread (for synchronous code).

from netfleet_sim import BackgroundSimulator

with BackgroundSimulator(devices=2, platforms=["cisco_ios"]) as bg:
    device = bg.sim.devices[0]            # connect with any client, from this thread
    device.set_faults(refuse_auth=True)   # plain attribute changes are safe from here
    bg.run(device.reboot())               # coroutines run on the simulator's loop
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from types import TracebackType
from typing import Any, TypeVar

from netfleet_sim.fleet import Simulator

T = TypeVar("T")


class BackgroundSimulator:
    """A Simulator served by a daemon thread; ``with`` starts and stops it."""

    def __init__(self, **options: Any) -> None:
        self.sim = Simulator(**options)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._serve, name="netfleet-sim", daemon=True)

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_forever()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float | None = 60.0) -> T:
        """Run ``coro`` on the simulator's loop and return its result."""
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    def __enter__(self) -> BackgroundSimulator:
        self._thread.start()
        try:
            self.run(self.sim.start())
        except BaseException:
            self._shutdown()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            self.run(self.sim.stop())
        finally:
            self._shutdown()

    def _shutdown(self) -> None:
        async def drain() -> None:
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        if self._thread.is_alive():
            self.run(drain())
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join()
        self._loop.close()

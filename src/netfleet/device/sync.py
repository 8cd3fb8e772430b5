"""``SyncDevice``: the Device API for scripts, on a private event loop (no thread)."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Coroutine, Iterable
from types import TracebackType
from typing import Any, TypeVar

from netfleet.core.models import CommandResult
from netfleet.device.device import Device
from netfleet.device.results import ConfigResult

T = TypeVar("T")


class SyncDevice:
    """Blocking wrapper: ``with SyncDevice(host, platform=..., ...) as dev: dev.send_command(...)``.

    Takes the same arguments as ``Device`` (a wrong one is a ``TypeError`` here, not at
    ``open``). Must not be used from inside a running event loop (use ``Device`` there).
    """

    def __init__(self, host: str, **kwargs: Any) -> None:
        inspect.signature(Device).bind(host, **kwargs)
        self._runner = asyncio.Runner()
        self._host = host
        self._kwargs = kwargs
        self._device: Device | None = None

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        return self._runner.run(coro)

    async def _make(self) -> Device:
        return Device(self._host, **self._kwargs)

    @property
    def device(self) -> Device:
        if self._device is None:
            self._device = self._run(self._make())
        return self._device

    def open(self) -> None:
        self._run(self.device.open())

    def close(self) -> None:
        if self._device is not None:
            self._run(self._device.close())
        self._runner.close()

    def __enter__(self) -> SyncDevice:
        try:
            self.open()
        except BaseException:
            self.close()  # ``__exit__`` is not called when ``__enter__`` raises
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def send_command(self, command: str, **kwargs: Any) -> CommandResult:
        return self._run(self.device.send_command(command, **kwargs))

    def send_commands(self, commands: Iterable[str], **kwargs: Any) -> list[CommandResult]:
        return self._run(self.device.send_commands(commands, **kwargs))

    def send_config(self, lines: Iterable[str] | str, **kwargs: Any) -> ConfigResult:
        return self._run(self.device.send_config(lines, **kwargs))

    def save_config(self) -> CommandResult:
        return self._run(self.device.save_config())

    def enable(self) -> None:
        self._run(self.device.enable())

    def reset(self) -> None:
        self._run(self.device.reset())

    def is_alive(self) -> bool:
        return self._run(self.device.is_alive())

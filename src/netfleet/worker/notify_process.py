"""The notification delivery loop in a process of its own (``[notifications]
own_process = true``; by default the loop runs in the worker's event loop):
``netfleet worker`` and ``netfleet serve`` start it next to their workers, so the
sends' CPU and transactions never share the interpreter nor the store's threads
with claims and completions. Not advised on
SQLite: there every write of any process takes the one database lock, and a second
writing process costs the worker's completions more (lock waits, re-read pages) than
the in-process loop, which yields to them.

``NotifyProcess.run`` is a background loop of the worker: it starts a Python running
``main`` below (on PostgreSQL at a lower CPU priority, ``NICE``), hands it the store's
URL and key and the settings it needs over its stdin (never in arguments or the
environment), restarts it if it exits (after 1 s, doubling to 30 s), and on stop sends
SIGTERM: the child finishes the sends in flight and records them. The child dies with its parent: on
Linux the kernel kills it when the parent dies (``PR_SET_PDEATHSIG``), elsewhere it
exits at once when its stdin closes. A killed child's leased deliveries are taken over
after ``lease_seconds`` with the same idempotency id, as for a killed worker.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

from netfleet.core.logging import configure_logging, get_logger
from netfleet.core.secretref import configure_secrets
from netfleet.core.settings import LogSettings, SecretSettings, Settings
from netfleet.core.settings_integrations import NotificationSettings
from netfleet.store import SqlStore, open_store

log = get_logger(__name__)

NICE = 10
"""On PostgreSQL the child runs at this lower CPU priority (from before its imports): on
a busy host deliveries wait for the queue's work, never the other way round. Not on
SQLite, where a descheduled child holding the database lock would stall the worker."""
CHILD_START = (
    "import os, sys, contextlib\n"
    "with contextlib.suppress(OSError, AttributeError): os.nice(int(sys.argv[2]))\n"
    "from netfleet.worker.notify_process import main\n"
    "main()"
)
RESTART_MIN_S = 1.0
RESTART_MAX_S = 30.0
STEADY_S = 60.0
"""A child that ran this long restarts after ``RESTART_MIN_S`` again."""
STOP_GRACE_S = 5.0
"""After SIGTERM the child gets ``timeout_seconds`` plus this, then SIGKILL."""


class NotifyProcess:
    """Starts and supervises the delivery process of one worker process."""

    def __init__(
        self,
        store: SqlStore,
        settings: Settings,
        *,
        owner: str,
        backup_stale_s: float | None = None,
    ) -> None:
        self.store = store
        self.settings = settings
        self.owner = owner
        self.backup_stale_s = backup_stale_s
        self.pid: int | None = None
        """The running child's pid (None between children)."""
        self.starts = 0

    def handover(self) -> bytes:
        """The child's one line of configuration (it holds the store's key)."""
        url, key = self.store.db.reopen_args()
        s = self.settings
        return (
            json.dumps(
                {
                    "url": url,
                    "key": key,
                    "owner": self.owner,
                    "backup_stale_s": self.backup_stale_s,
                    "notifications": s.notifications.model_dump(mode="json"),
                    "secrets": s.secrets.model_dump(mode="json"),
                    "log": s.log.model_dump(mode="json"),
                }
            ).encode()
            + b"\n"
        )

    async def run(self, stop: asyncio.Event) -> None:
        """Keep one child running until ``stop`` is set; then stop it gracefully."""
        delay = RESTART_MIN_S
        stopping = asyncio.ensure_future(stop.wait())
        try:
            while not stop.is_set():
                started = time.monotonic()
                code = await self._run_child(stopping)
                if stop.is_set():
                    return
                if time.monotonic() - started >= STEADY_S:
                    delay = RESTART_MIN_S
                log.warning("notification process exited; restarting", code=code, after_s=delay)
                await asyncio.wait({stopping}, timeout=delay)
                delay = min(RESTART_MAX_S, delay * 2)
        finally:
            stopping.cancel()

    async def _run_child(self, stopping: asyncio.Future[Any]) -> int | None:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            CHILD_START,
            str(os.getpid()),
            str(NICE if self.store.dialect == "postgresql" else 0),
            stdin=asyncio.subprocess.PIPE,
            env=child_env(),
        )
        self.pid, self.starts = proc.pid, self.starts + 1
        assert proc.stdin is not None
        try:
            with contextlib.suppress(ConnectionError):
                proc.stdin.write(self.handover())
                await proc.stdin.drain()
            exited = asyncio.ensure_future(proc.wait())
            await asyncio.wait({exited, stopping}, return_when="FIRST_COMPLETED")
            if not exited.done():
                with contextlib.suppress(ProcessLookupError):
                    proc.send_signal(signal.SIGTERM)
                grace = self.settings.notifications.timeout_seconds + STOP_GRACE_S
                try:
                    async with asyncio.timeout(grace):
                        await asyncio.shield(exited)
                except TimeoutError:
                    log.warning("notification process did not stop; killing it", pid=proc.pid)
                    with contextlib.suppress(ProcessLookupError):
                        proc.kill()
                    await exited
            return proc.returncode
        except BaseException:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            raise
        finally:
            self.pid = None
            proc.stdin.close()


def child_env() -> dict[str, str]:
    """This environment, with this process's ``netfleet`` first on the import path (the
    child runs the same code even when the parent was not started from an install)."""
    import netfleet

    root = str(Path(netfleet.__file__).resolve().parent.parent)
    paths = [root, *(p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p)]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(dict.fromkeys(paths))}


def _die_with_parent(parent: int) -> None:
    """Linux: the kernel SIGKILLs this process when its parent dies."""
    if sys.platform.startswith("linux"):
        import ctypes

        pr_set_pdeathsig = 1
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, int(signal.SIGKILL))
    if os.getppid() != parent:  # it died before the line above
        os._exit(0)


async def _child(config: dict[str, Any]) -> None:
    from netfleet.worker.notify_loop import NotificationLoop

    settings = NotificationSettings.model_validate(config["notifications"])
    store = await open_store(
        config["url"], settings=Settings.model_construct(), secret_key=config["key"], migrate=False
    )
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)

    def parent_gone() -> None:
        if not os.read(sys.stdin.fileno(), 4096):  # EOF: the parent died
            os._exit(0)

    loop.add_reader(sys.stdin.fileno(), parent_gone)
    try:
        notify = NotificationLoop(
            store, settings, owner=config["owner"], backup_stale_s=config["backup_stale_s"]
        )
        await notify.run(stop)
    finally:
        await store.close()


def main() -> None:
    """The child (``CHILD_START``; argument: the parent's pid), with its configuration
    as one JSON line on stdin."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # until the loop handles it
    _die_with_parent(int(sys.argv[1]))
    line = b""
    while b"\n" not in line:
        chunk = os.read(sys.stdin.fileno(), 65536)
        if not chunk:
            sys.exit(0)  # the parent went away before handing over
        line += chunk
    config = json.loads(line.split(b"\n", 1)[0])
    configure_logging(LogSettings.model_validate(config["log"]))
    configure_secrets(SecretSettings.model_validate(config["secrets"]))
    asyncio.run(_child(config))


if __name__ == "__main__":
    main()

"""``netfleet worker``: claim and run queued tasks until SIGTERM/SIGINT.

Exit codes: 0 after a clean shutdown (first signal: drain; second: stop now),
2 for bad settings or options (a malformed ``--db`` URL included), 3 when the
database fails for good. A worker started while its database is unreachable
waits for it (retrying with backoff, logging once per interval); a signal while
it waits exits 0.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Annotated

import typer

from netfleet.cli.backend import DbOption, fail
from netfleet.core.errors import DatabaseUnavailable, NetfleetError

if TYPE_CHECKING:
    from netfleet.core.settings import Settings
    from netfleet.store import SqlStore

WAIT_LOG_EVERY_S = 30.0
"""While the database is unreachable, one warning per this many seconds."""


def register(app: typer.Typer) -> None:
    @app.command("worker")
    def worker(
        db: DbOption = None,
        concurrency: Annotated[
            int | None,
            typer.Option("--concurrency", "-c", min=1, help="Tasks run at once."),
        ] = None,
        no_scheduler: Annotated[
            bool,
            typer.Option("--no-scheduler", help="Do not fire schedules in this worker."),
        ] = False,
        worker_id: Annotated[
            str | None,
            typer.Option("--id", help="Worker id (default: host-pid-random)."),
        ] = None,
    ) -> None:
        """Run a worker: claim queued tasks, run them on pooled sessions, report results."""
        from netfleet.core.logging import configure_logging
        from netfleet.core.secretref import configure_secrets
        from netfleet.core.settings import load_settings
        from netfleet.worker.process import ServeOptions, serve

        _exit_cleanly_if_stopped_while_starting()
        try:
            settings = load_settings()
        except NetfleetError as exc:
            raise fail(exc) from None
        if db:
            settings.database.url = db
        configure_logging(settings.log)
        configure_secrets(settings.secrets)
        options = ServeOptions(
            concurrency=concurrency,
            scheduler=False if no_scheduler else None,
            worker_id=worker_id,
        )

        async def main() -> None:
            store = await open_waiting(settings)
            try:
                await serve(store, settings, options)
            finally:
                await store.close()

        try:
            asyncio.run(main())
        except NetfleetError as exc:
            raise fail(exc) from None


async def open_waiting(settings: Settings, *, cap_s: float = 10.0) -> SqlStore:
    """Open (and migrate) the store, waiting while the database is unreachable."""
    from netfleet.core.logging import get_logger
    from netfleet.store import open_store
    from netfleet.worker.waiting import Backoff

    log = get_logger("netfleet.worker")
    backoff = Backoff(first=0.5, cap=cap_s)
    last_logged = float("-inf")
    while True:
        try:
            return await open_store(settings.database.url, settings=settings)
        except DatabaseUnavailable as exc:
            delay = backoff.failed()
            now = time.monotonic()
            if now - last_logged >= WAIT_LOG_EVERY_S:
                last_logged = now
                log.warning(
                    "database unavailable; the worker waits for it",
                    error=str(exc),
                    attempts=backoff.failures,
                    retry_in_s=delay,
                )
            await asyncio.sleep(delay)


def _exit_cleanly_if_stopped_while_starting() -> None:
    """SIGTERM/SIGINT before the worker runs (it claims nothing yet) exit 0, as a drain
    would; once it runs, the worker's own handlers drain it."""
    import signal

    def stop(signum: int, _frame: object) -> None:
        raise SystemExit(0)

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, stop)

"""The one way store-backed CLI commands reach their data: ``--url`` or ``--db``.

Every such command is written once against :class:`Backend`, the REST API's
paths and JSON, and runs on either implementation:

- ``RemoteBackend`` (``--url``/``--token``): a running ``netfleet serve`` over HTTP
  (``netfleet.cli.remote``).
- ``LocalBackend`` (``--db``): the database itself. It opens the store and serves
  the same API in-process (no socket, no token: whoever can open the database
  may change it), so both give the same answers, errors and output.

This module holds the CLI's only direct store calls: opening and closing it,
for ``LocalBackend`` and for the processes (``netfleet worker``) through
``run_on_store``; everything else goes through the API's routes.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import TYPE_CHECKING, Annotated, Any, Literal, Protocol, TypeVar

import typer

from netfleet.cli.common import EXIT_BAD_INPUT
from netfleet.cli.remote import (
    EXIT_FAILED,
    ApiCalls,
    Remote,
    RemoteError,
    TokenOption,
    UrlOption,
    names_server,
    problem_detail,
    resolve,
)
from netfleet.core.errors import Conflict, InputError, NetfleetError, NotFound

if TYPE_CHECKING:
    import httpx

    from netfleet.core.settings import Settings
    from netfleet.store import SqlStore

EXIT_STORE = 3
T = TypeVar("T")

DbOption = Annotated[
    str | None,
    typer.Option("--db", help="Work on this database directly (default: database.url)."),
]


class Backend(Protocol):
    """Calls to ``/api/v1`` of a server or of the database: decoded JSON, or ``RemoteError``."""

    def get(self, path: str, **params: Any) -> Any: ...

    def post(self, path: str, body: Any = None, **params: Any) -> Any: ...

    def put(self, path: str, body: Any) -> Any: ...

    def delete(self, path: str) -> Any: ...

    def events(self, job_id: int, *, after: int = 0) -> Iterator[tuple[str, dict[str, Any]]]:
        """A job's events as ``(kind, data)`` until ``("end", {"state": ...})``."""
        ...


RemoteBackend = Remote
"""``--url``: the REST API of a running server (see ``netfleet.cli.remote``)."""


class LocalBackend(ApiCalls):
    """``--db``: the API served in-process on the database, called synchronously."""

    def __init__(self, db: str | None, settings: Settings | None = None) -> None:
        self._runner = asyncio.Runner()
        self._store: SqlStore | None = None
        self._logs = _QuietLogs()
        try:
            self._client = self._runner.run(self._open(db, settings))
        except BaseException:
            self.close()
            raise

    async def _open(self, db: str | None, settings: Settings | None) -> httpx.AsyncClient:
        import httpx

        from netfleet.api import create_app
        from netfleet.core.secretref import configure_secrets
        from netfleet.core.settings import load_settings
        from netfleet.store import open_store

        loaded = settings or load_settings()
        configure_secrets(loaded.secrets)
        self._store = await open_store(db or loaded.database.url, settings=loaded)
        local = loaded.model_copy(
            update={"service": loaded.service.model_copy(update={"auth": False})}
        )
        app = create_app(self._store, local, metrics_max_age_s=0.0)
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://local")

    def __enter__(self) -> LocalBackend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        client = getattr(self, "_client", None)
        try:
            if client is not None:
                self._runner.run(client.aclose())
            if self._store is not None:
                self._runner.run(self._store.close())
        finally:
            self._store = None
            self._runner.close()
            self._logs.restore()

    def request(
        self, method: str, path: str, *, json_body: Any = None, params: dict[str, Any] | None = None
    ) -> Any:
        """Call ``/api/v1{path}``; the decoded JSON body (None for 204)."""
        response = self._runner.run(
            self._client.request(
                method,
                "/api/v1" + path,
                json=json_body,
                params={k: v for k, v in (params or {}).items() if v is not None},
            )
        )
        if response.status_code >= 400:
            raise RemoteError(
                problem_detail(response),
                exit_code=EXIT_BAD_INPUT if response.status_code < 500 else EXIT_STORE,
                status=response.status_code,
            )
        if response.status_code == 204 or not response.content:
            return None
        return response.json()

    def events(
        self, job_id: int, *, after: int = 0, poll_s: float = 0.2
    ) -> Iterator[tuple[str, dict[str, Any]]]:
        """The job's events, read page by page until it has finished and none are left."""
        state: str | None = None
        while True:
            page = self.get(f"/jobs/{job_id}/events", after=after, limit=1000)
            for event in page["items"]:
                yield "event", event
            after = page["next_after"]
            if page["items"]:
                continue
            job = self.get(f"/jobs/{job_id}", outputs="false")
            if job["state"] != state:
                state = str(job["state"])
                yield "state", {"state": state, "counts": job["counts"]}
            if job["finished_at"] is not None:
                yield "end", {"state": state}
                return
            time.sleep(poll_s)


class _QuietLogs:
    """The in-process API's request lines are not the command's output: while a
    ``LocalBackend`` is open, an unconfigured process logs warnings and worse only,
    to stderr. A process that configured logging keeps its configuration."""

    def __init__(self) -> None:
        import structlog

        self._changed = not structlog.is_configured()
        if self._changed:
            structlog.configure(
                wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING),
                logger_factory=lambda *_: structlog.PrintLogger(sys.stderr),
                cache_logger_on_first_use=False,
            )

    def restore(self) -> None:
        import structlog

        if self._changed:
            structlog.reset_defaults()
            self._changed = False


def fail(exc: NetfleetError) -> typer.Exit:
    """Print ``exc`` as one line; the exit for its kind (2 bad input, 3 the database)."""
    typer.echo(f"error: {exc}", err=True)
    bad_input = isinstance(exc, InputError | NotFound | Conflict)
    return typer.Exit(EXIT_BAD_INPUT if bad_input else EXIT_STORE)


def run_on_store(
    db: str | None, fn: Callable[[SqlStore], Awaitable[T]], *, settings: Settings | None = None
) -> T:
    """Run ``fn`` on the database ``db`` (default: the ``database.url`` setting of
    ``settings``, loaded when not given): for the processes, not for commands."""
    from netfleet.core.settings import load_settings
    from netfleet.store import open_store

    async def main() -> T:
        loaded = settings or load_settings()
        store = await open_store(db or loaded.database.url, settings=loaded)
        try:
            return await fn(store)
        finally:
            await store.close()

    try:
        return asyncio.run(main())
    except NetfleetError as exc:
        raise fail(exc) from None


def call(
    url: str | None,
    token: str | None,
    db: str | None,
    fn: Callable[[Backend], T],
    *,
    default: Literal["remote", "local"] = "remote",
) -> T:
    """Run ``fn`` on the backend the options name. Without ``--db`` or ``--url``, a server
    named by the environment (``NETFLEET_URL``, ``NETFLEET_TOKEN``) or the CLI config
    file is used; ``default`` says where to go when nothing names one.

    A failure prints one ``error:`` line and exits: 2 for bad input or a request
    refused, 1 when the server fails or cannot be reached, 3 when the database does."""
    if db is not None and (url is not None or token is not None):
        typer.echo("error: give --url (and --token) or --db, not both", err=True)
        raise typer.Exit(EXIT_BAD_INPUT)
    try:
        local = db is not None or (default == "local" and not names_server(url, token))
        if local:
            try:
                backend: Remote | LocalBackend = LocalBackend(db)
            except NetfleetError as exc:
                raise fail(exc) from None
        else:
            backend = Remote(resolve(url, token))
        with backend:
            return fn(backend)
    except RemoteError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(exc.exit_code) from None
    except NetfleetError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(EXIT_BAD_INPUT) from None


__all__ = [
    "EXIT_BAD_INPUT",
    "EXIT_FAILED",
    "EXIT_STORE",
    "Backend",
    "DbOption",
    "LocalBackend",
    "RemoteBackend",
    "TokenOption",
    "UrlOption",
    "call",
    "fail",
    "run_on_store",
]

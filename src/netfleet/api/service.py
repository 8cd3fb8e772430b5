"""``netfleet serve``: the API server (uvicorn, same event loop) plus embedded runtime.

Start-up: open and migrate the store (waiting, with backoff, while the database
is unreachable), make sure an admin token exists (preset
by ``NETFLEET_ADMIN_TOKEN``, or created once and printed), start uvicorn, the
workers and the scheduler, print the URL. SIGTERM/SIGINT: stop accepting
requests, end event streams, drain the workers, close the pool and the store; a
second signal stops at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import signal
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import uvicorn
from fastapi import FastAPI

from netfleet.api.app import create_app
from netfleet.api.limits import (
    connection_cap,
    guarded_protocol,
    quiet_accept_errors,
    raise_nofile_limit,
)
from netfleet.api.runtime import EmbeddedRuntime
from netfleet.core.errors import ConfigurationError
from netfleet.core.logging import get_logger
from netfleet.core.settings import Settings
from netfleet.store import SqlStore
from netfleet.worker.startup import open_waiting

log = get_logger(__name__)
ADMIN_TOKEN_NAME = "admin"


@dataclass(frozen=True, slots=True)
class ServeOptions:
    host: str = "127.0.0.1"
    port: int = 8080
    workers: int = 1
    signals: bool = True


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_bind(settings: Settings, host: str) -> None:
    """Refuse to expose an unauthenticated API beyond this machine."""
    if not settings.service.auth and not is_loopback(host):
        raise ConfigurationError(
            f"refusing to listen on {host} with authentication disabled "
            "(service.auth = false); bind 127.0.0.1 or enable authentication"
        )


async def bootstrap_admin(store: SqlStore, settings: Settings) -> str | None:
    """Ensure an admin token: the preset one, or a new one if no token exists.

    Returns a newly created token (to print once), else None."""
    if settings.admin_token:
        if await store.tokens.ensure(ADMIN_TOKEN_NAME, "admin", settings.admin_token) is None:
            log.warning(
                "the preset admin token (NETFLEET_ADMIN_TOKEN) was revoked and stays revoked; "
                "use another admin token, or preset a new one"
            )
        return None
    if await store.tokens.exist():
        return None
    _, token = await store.tokens.create(ADMIN_TOKEN_NAME, "admin")
    return token


class _Server(uvicorn.Server):
    """uvicorn without its own signal handling: ``serve`` routes signals itself."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@contextlib.contextmanager
def _signals(graceful: Callable[[], None], immediate: Callable[[], None]) -> Iterator[None]:
    loop = asyncio.get_running_loop()
    seen: list[int] = []

    def handle(signum: int) -> None:
        seen.append(signum)
        if len(seen) == 1:
            log.info("signal received: shutting down", signal=signal.Signals(signum).name)
            graceful()
        else:
            log.warning("signal received again: stopping now")
            immediate()

    installed = []
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, handle, sig)
            installed.append(sig)
    try:
        yield
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port`` (port 0: OS-chosen); ConfigurationError if taken."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except OSError as exc:
        raise ConfigurationError(f"cannot resolve listen address {host!r}: {exc}") from None
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        raise ConfigurationError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    sock.setblocking(False)
    return sock


def service_app(
    store: SqlStore, settings: Settings, workers: int
) -> tuple[EmbeddedRuntime, FastAPI]:
    """The embedded runtime and the app ``serve`` runs on ``store``.

    The runtime always runs the service's housekeeping (audit retention, ended
    dashboard sessions), even with ``workers=0``, and the app always has it, so
    ``/readyz`` names housekeeping when it is down. Schedules fire in the service only
    with embedded workers; with ``workers=0`` the ``netfleet worker`` processes fire
    them (``worker.scheduler``), recover expired leases and deliver notifications."""
    runtime = EmbeddedRuntime(
        store, settings, workers=workers, scheduler=settings.worker.scheduler and workers > 0
    )
    return runtime, create_app(store, settings, runtime=runtime)


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in str(host) else str(host)
    return f"http://{shown}:{port}"


async def serve(
    settings: Settings,
    options: ServeOptions,
    *,
    announce: Callable[[str], None] = print,
    configure_app: Callable[[FastAPI], None] | None = None,
) -> None:
    """Run the service until SIGTERM/SIGINT. ``announce`` prints the URL and a new token;
    ``configure_app`` may add routes (e.g. the web dashboard) to the app before it starts."""
    check_bind(settings, options.host)
    soft, hard = raise_nofile_limit()
    quiet_accept_errors()
    max_connections = connection_cap(settings.service.max_connections, soft)
    log.debug("descriptor limit", soft=soft, hard=hard, max_connections=max_connections)
    store = await open_waiting(settings, who="the service")
    try:
        token = await bootstrap_admin(store, settings)
        if token is not None:
            announce(f"admin token (shown once, keep it safe): {token}")
        runtime, app = service_app(store, settings, options.workers)
        if configure_app is not None:
            configure_app(app)
        config = uvicorn.Config(
            app,
            host=options.host,
            port=options.port,
            log_config=None,
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=5,
            http=guarded_protocol(
                header_seconds=settings.service.header_timeout_seconds,
                max_connections=max_connections,
            ),
            timeout_keep_alive=max(1, round(settings.service.keep_alive_seconds)),
            limit_concurrency=max_connections,
        )
        server = _Server(config)
        ctx = app.state.netfleet

        def graceful() -> None:
            ctx.stopping.set()
            server.should_exit = True
            runtime.stop()

        def immediate() -> None:
            graceful()
            server.force_exit = True
            runtime.stop(immediate=True)

        sock = bind(options.host, options.port)
        runtime_task = asyncio.create_task(runtime.run())
        guard = _signals(graceful, immediate) if options.signals else contextlib.nullcontext()
        try:
            with guard:
                server_task = asyncio.create_task(server.serve(sockets=[sock]))
                while not server.started and not server_task.done():  # noqa: ASYNC110
                    await asyncio.sleep(0.02)
                if server.started:
                    url = url_of(sock)
                    announce(f"netfleet: serving on {url} (API docs: {url}/api/docs)")
                    log.info("service started", url=url, workers=options.workers, db=store.url)
                try:
                    await server_task
                finally:
                    graceful()
                    await runtime_task
        finally:
            sock.close()
    finally:
        await store.close()
        log.info("service stopped")

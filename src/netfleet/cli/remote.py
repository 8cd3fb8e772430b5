"""The HTTP side of the CLI's backend (``RemoteBackend``): calls to ``netfleet serve``.

Where the server is and which token to use, strongest first: ``--url`` /
``--token``, the environment (``NETFLEET_URL``, ``NETFLEET_TOKEN``), the file
``~/.netfleet/cli.toml`` (or ``NETFLEET_CLI_CONFIG``)::

    url = "http://127.0.0.1:8080"
    token = "nf_..."

Every failure becomes a ``RemoteError`` printed as one ``error:`` line: the
server's RFC 9457 problem ``detail`` for HTTP errors (exit code 2 for 4xx, 1
otherwise), or a line naming the URL when the server cannot be reached (1).
"""

from __future__ import annotations

import contextlib
import json
import os
import time
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import quote

import typer

from netfleet import __version__
from netfleet.cli.common import EXIT_BAD_INPUT
from netfleet.core.errors import NetfleetError

if TYPE_CHECKING:  # httpx is imported where used: `netfleet run` never needs it
    import httpx

DEFAULT_URL = "http://127.0.0.1:8080"
EXIT_FAILED = 1

UrlOption = Annotated[
    str | None,
    typer.Option("--url", help="Server URL (env NETFLEET_URL; default http://127.0.0.1:8080)."),
]
TokenOption = Annotated[
    str | None,
    typer.Option(
        "--token",
        help="API token (env NETFLEET_TOKEN or ~/.netfleet/cli.toml).",
        show_default=False,
    ),
]


class RemoteError(NetfleetError):
    """A request to the netfleet server failed; ``exit_code`` is 2 for input errors."""

    def __init__(self, message: str, *, exit_code: int = EXIT_FAILED, status: int | None = None):
        super().__init__(message)
        self.exit_code = exit_code
        self.status = status


@dataclass(frozen=True, slots=True)
class Endpoint:
    url: str
    token: str | None

    def __repr__(self) -> str:
        return f"Endpoint(url={self.url!r}, token={'***' if self.token else None})"


def config_path() -> Path:
    return Path(os.environ.get("NETFLEET_CLI_CONFIG", "~/.netfleet/cli.toml")).expanduser()


def _config_file() -> dict[str, Any]:
    path = config_path()
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError:
        return {}
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise RemoteError(f"{path}: cannot read CLI config: {exc}", exit_code=2) from None
    for key in data:
        if key not in ("url", "token"):
            raise RemoteError(f"{path}: unknown key {key!r} (expected url, token)", exit_code=2)
    return data


def names_server(url: str | None, token: str | None) -> bool:
    """The options, the environment or the config file name a server (its URL or token)."""
    if url or token or os.environ.get("NETFLEET_URL") or os.environ.get("NETFLEET_TOKEN"):
        return True
    data = _config_file()
    return bool(data.get("url") or data.get("token"))


def resolve(url: str | None, token: str | None) -> Endpoint:
    """The endpoint from options, then the environment, then the config file."""
    url = url or os.environ.get("NETFLEET_URL") or None
    token = token or os.environ.get("NETFLEET_TOKEN") or None
    if url is None or token is None:
        data = _config_file()
        url = url or data.get("url") or DEFAULT_URL
        token = token or data.get("token") or None
    assert url is not None
    if not url.startswith(("http://", "https://")):
        raise RemoteError(f"--url {url!r}: expected http://HOST:PORT", exit_code=EXIT_BAD_INPUT)
    return Endpoint(url=url.rstrip("/"), token=token)


def problem_detail(response: httpx.Response) -> str:
    """One line from a problem+json body (or whatever the server sent)."""
    detail: str | None = None
    with contextlib.suppress(ValueError):
        body = response.json()
        if isinstance(body, dict):
            detail = body.get("detail") or body.get("title")
    if not detail:
        text = response.text.strip().splitlines()
        detail = text[0][:200] if text else response.reason_phrase
    return " ".join(str(detail).split())


def _problem_message(response: httpx.Response) -> str:
    return f"{problem_detail(response)} (HTTP {response.status_code})"


class ApiCalls:
    """``get``/``post``/``put``/``delete`` on ``request``, shared by both backends."""

    def request(
        self, method: str, path: str, *, json_body: Any = None, params: dict[str, Any] | None = None
    ) -> Any:
        raise NotImplementedError

    def get(self, path: str, **params: Any) -> Any:
        return self.request("GET", path, params=params)

    def post(self, path: str, body: Any = None, **params: Any) -> Any:
        return self.request("POST", path, json_body=body, params=params)

    def put(self, path: str, body: Any) -> Any:
        return self.request("PUT", path, json_body=body)

    def delete(self, path: str) -> Any:
        return self.request("DELETE", path)


class Remote(ApiCalls):
    """Synchronous JSON calls to ``/api/v1`` (and the event stream) of one server."""

    def __init__(self, endpoint: Endpoint, *, timeout: float = 30.0) -> None:
        import httpx

        self.endpoint = endpoint
        headers = {"User-Agent": f"netfleet-cli/{__version__}", "Accept": "application/json"}
        if endpoint.token:
            headers["Authorization"] = f"Bearer {endpoint.token}"
        self._http = httpx.Client(base_url=endpoint.url, headers=headers, timeout=timeout)

    def __enter__(self) -> Remote:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def _unreachable(self, exc: httpx.TransportError) -> RemoteError:
        import httpx

        if isinstance(exc, httpx.ConnectError):
            cause = "connection refused or host unreachable"
        elif isinstance(exc, httpx.TimeoutException):
            cause = "timed out"
        else:
            cause = type(exc).__name__
        return RemoteError(
            f"cannot reach the netfleet server at {self.endpoint.url}: {cause} "
            "(is `netfleet serve` running? set --url or NETFLEET_URL)"
        )

    def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Any:
        """Call ``/api/v1{path}``; the decoded JSON body (None for 204)."""
        import httpx

        try:
            response = self._http.request(
                method,
                "/api/v1" + path,
                json=json_body,
                params={k: v for k, v in (params or {}).items() if v is not None},
                headers=headers,
            )
        except httpx.TransportError as exc:
            raise self._unreachable(exc) from None
        if response.status_code >= 400:
            code = EXIT_BAD_INPUT if 400 <= response.status_code < 500 else EXIT_FAILED
            message = _problem_message(response)
            if response.status_code == 401 and not self.endpoint.token:
                message += "; give --token, NETFLEET_TOKEN or token in ~/.netfleet/cli.toml"
            raise RemoteError(message, exit_code=code, status=response.status_code)
        if response.status_code == 204 or not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise RemoteError(f"{self.endpoint.url}{path}: the answer is not JSON") from None

    def events(
        self, job_id: int, *, after: int = 0, reconnects: int = 5
    ) -> Iterator[tuple[str, dict[str, Any]]]:
        """Server-sent events of a job, ``(event, data)``, until its ``end`` event.

        A dropped stream is resumed after the last event id seen."""
        import httpx

        last_id = after
        failures = 0
        while True:
            try:
                for event, data, event_id in self._stream_once(job_id, last_id):
                    failures = 0
                    if event_id is not None:
                        last_id = event_id
                    yield event, data
                    if event == "end":
                        return
            except httpx.TransportError as exc:
                failures += 1
                if failures > reconnects:
                    raise self._unreachable(exc) from None
                time.sleep(min(0.2 * 2**failures, 3.0))
                continue
            failures += 1  # the stream ended without "end": reconnect
            if failures > reconnects:
                raise RemoteError(f"job {job_id}: the event stream ended early")

    def _stream_once(
        self, job_id: int, after: int
    ) -> Iterator[tuple[str, dict[str, Any], int | None]]:
        import httpx

        url = f"/api/v1/jobs/{job_id}/events/stream"
        timeout = httpx.Timeout(30.0, read=60.0)
        with self._http.stream(
            "GET",
            url,
            params={"after": after},
            headers={"Accept": "text/event-stream"},
            timeout=timeout,
        ) as response:
            if response.status_code >= 400:
                response.read()
                code = EXIT_BAD_INPUT if response.status_code < 500 else EXIT_FAILED
                raise RemoteError(_problem_message(response), exit_code=code)
            yield from parse_sse(response.iter_lines())


def parse_sse(lines: Iterator[str]) -> Iterator[tuple[str, dict[str, Any], int | None]]:
    """Server-sent-event frames from text lines: ``(event, json data, id)``."""
    event, data, event_id = "message", "", None
    for line in lines:
        if not line:
            if data:
                try:
                    payload = json.loads(data)
                except ValueError:
                    payload = {"text": data}
                yield event, payload if isinstance(payload, dict) else {"value": payload}, event_id
            event, data, event_id = "message", "", None
            continue
        if line.startswith(":"):
            continue
        key, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if key == "event":
            event = value
        elif key == "data":
            data = f"{data}\n{value}" if data else value
        elif key == "id" and value.isdigit():
            event_id = int(value)


def seg(name: str) -> str:
    """``name`` as one URL path segment."""
    return quote(name, safe="")

"""The control interface: a tiny HTTP/1.1 JSON server on 127.0.0.1 (no dependencies).

Endpoints (every response is JSON; errors are ``{"error": "..."}``):

- ``GET /devices`` -- every device with its statistics and faults
- ``GET /devices/{name}`` -- one device
- ``POST /devices/{name}/faults`` -- body ``{"hang_on": "show clock", ...}``; merges
  into the device's faults (see :mod:`netfleet_sim.faults`), returns the device
- ``DELETE /devices/{name}/faults`` -- clear the device's faults
- ``POST /devices/{name}/reboot`` -- drop its sessions, discard unsaved changes;
  optional body ``{"downtime_s": 5}`` refuses connections meanwhile
- ``POST /faults`` / ``DELETE /faults`` -- the same for every device
  (``POST`` accepts ``{"devices": "sim-ios-*", ...faults}`` to select by pattern)
- ``POST /reset-stats`` -- zero every device's counters
- ``GET /health`` -- ``{"ok": true, "devices": N}``

Connections are closed after each response.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
from typing import TYPE_CHECKING, Any

from netfleet_sim.errors import SimulatorError

if TYPE_CHECKING:
    from netfleet_sim.fleet import Simulator

MAX_BODY = 1 << 20
_REASONS = {200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed"}


class HttpError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def loopback_host(host: str) -> str:
    """``host`` if it is a loopback address, else ``127.0.0.1``: the control interface
    changes every device, so it never listens beyond this machine."""
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = host == "localhost"
    return host if loopback else "127.0.0.1"


class ControlServer:
    """Serves the control interface for one :class:`Simulator`."""

    def __init__(self, sim: Simulator, host: str, port: int) -> None:
        self._sim = sim
        self._host = loopback_host(host)
        self._port = port
        self._server: asyncio.Server | None = None

    @property
    def port(self) -> int:
        return self._port

    @property
    def url(self) -> str:
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"http://{host}:{self._port}"

    async def start(self) -> None:
        try:
            self._server = await asyncio.start_server(self._handle, self._host, self._port)
        except OSError as exc:
            raise SimulatorError(
                f"cannot listen on control port {self._port}: {exc.strerror or exc}"
            ) from None
        self._port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            try:
                method, path, body = await _read_request(reader)
                status, payload = 200, await self._route(method, path, body)
            except HttpError as exc:
                status, payload = exc.status, {"error": str(exc)}
            except SimulatorError as exc:
                status, payload = 400, {"error": str(exc)}
            data = json.dumps(payload).encode()
            head = (
                f"HTTP/1.1 {status} {_REASONS.get(status, 'Error')}\r\n"
                "Content-Type: application/json\r\n"
                f"Content-Length: {len(data)}\r\n"
                "Connection: close\r\n\r\n"
            )
            writer.write(head.encode() + data)
            await writer.drain()
        except (OSError, asyncio.IncompleteReadError, ValueError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    async def _route(self, method: str, path: str, body: Any) -> Any:
        sim = self._sim
        parts = [p for p in path.split("?", 1)[0].split("/") if p]
        if parts == ["health"] and method == "GET":
            return {"ok": True, "devices": len(sim.devices)}
        if parts == ["devices"] and method == "GET":
            return {"devices": [d.to_json() for d in sim.devices]}
        if parts == ["connections"] and method == "GET":
            return {
                "connections": [
                    {"device": d.name, **info} for d in sim.devices for info in d.connection_info()
                ]
            }
        if parts == ["reset-stats"] and method == "POST":
            sim.reset_stats()
            return {"ok": True}
        if parts == ["faults"]:
            if method == "DELETE":
                sim.clear_faults()
                return {"ok": True}
            if method == "POST":
                changes = _object(body)
                devices = sim.select(str(changes.pop("devices", "*")))
                for device in devices:
                    device.set_faults(**changes)
                return {"ok": True, "devices": [d.name for d in devices]}
            raise HttpError(405, f"{method} not allowed on /faults")
        if len(parts) >= 2 and parts[0] == "devices":
            try:
                device = sim.device(parts[1])
            except KeyError:
                raise HttpError(404, f"no simulated device named {parts[1]!r}") from None
            rest = parts[2:]
            if not rest and method == "GET":
                return device.to_json()
            if rest == ["faults"] and method == "POST":
                device.set_faults(**_object(body))
                return device.to_json()
            if rest == ["faults"] and method == "DELETE":
                device.clear_faults()
                return device.to_json()
            if rest == ["reboot"] and method == "POST":
                downtime = _object(body).get("downtime_s", 0) if body is not None else 0
                if not isinstance(downtime, int | float) or downtime < 0:
                    raise HttpError(400, "downtime_s must be a non-negative number")
                await device.reboot(downtime_s=float(downtime))
                return device.to_json()
        raise HttpError(404, f"no route for {method} {path}")


def _object(body: Any) -> dict[str, Any]:
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise HttpError(400, "request body must be a JSON object")
    return dict(body)


async def _read_request(reader: asyncio.StreamReader) -> tuple[str, str, Any]:
    """Read one request: method, path and the JSON body (None when empty)."""
    request_line = (await reader.readline()).decode("latin-1").strip()
    pieces = request_line.split()
    if len(pieces) != 3 or not pieces[2].startswith("HTTP/"):
        raise HttpError(400, "malformed request line")
    method, path = pieces[0].upper(), pieces[1]
    length = 0
    while True:
        header = (await reader.readline()).decode("latin-1")
        if header in ("\r\n", "\n", ""):
            break
        name, _, value = header.partition(":")
        if name.strip().lower() == "content-length":
            try:
                length = int(value.strip())
            except ValueError:
                raise HttpError(400, "bad Content-Length") from None
    if length < 0 or length > MAX_BODY:
        raise HttpError(400, "request body too large")
    if not length:
        return method, path, None
    raw = await reader.readexactly(length)
    try:
        return method, path, json.loads(raw)
    except ValueError:
        raise HttpError(400, "request body is not valid JSON") from None

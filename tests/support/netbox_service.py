"""A loopback HTTP service answering like NetBox 4.x or Nautobot 2.x for the few endpoints
netfleet reads: ``/api/status/`` and ``/api/dcim/devices/`` (limit/offset pagination with
absolute ``next`` links, filters, ``Authorization: Token``).

The device shapes are written from the projects' documentation: NetBox's REST API
overview and OpenAPI schema (nested ``site``/``role``/``platform``/``tags`` with ``slug``,
``status`` as ``{value, label}``, ``primary_ip``/``primary_ip4`` with ``address`` in
CIDR form, ``config_context``, ``custom_fields``) and Nautobot 2.x's REST API docs
(UUID ids, ``object_type``, ``status``/``role``/``location`` as objects with ``name`` at
``depth=1``, ``platform.network_driver``, no ``primary_ip``, config context only with
``include=config_context``). Used by tests/integrations and benchmarks/inventory_sync.py.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

MAX_PAGE_SIZE = 1000  # NetBox's default MAX_PAGE_SIZE


def _nested(base: str, kind: str, obj_id: int, name: str, slug: str) -> dict[str, Any]:
    return {
        "id": obj_id,
        "url": f"{base}/api/{kind}/{obj_id}/",
        "display": name,
        "name": name,
        "slug": slug,
        "description": "",
    }


def netbox_device(
    base: str,
    i: int,
    *,
    name: str | None = None,
    ip: str | None = "auto",
    platform: str | None = "cisco-ios",
    site: str = "dc1",
    role: str = "router",
    tags: tuple[str, ...] = ("edge",),
    status: str = "active",
    custom_fields: dict[str, Any] | None = None,
    config_context: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One device as NetBox 4.x lists it in ``/api/dcim/devices/``."""
    address = f"10.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}/24" if ip == "auto" else ip
    ip_obj = None
    if address is not None:
        ip_obj = {
            "id": i,
            "url": f"{base}/api/ipam/ip-addresses/{i}/",
            "display": address,
            "family": {"value": 4, "label": "IPv4"},
            "address": address,
            "description": "",
        }
    return {
        "id": i,
        "url": f"{base}/api/dcim/devices/{i}/",
        "display_url": f"{base}/dcim/devices/{i}/",
        "display": name or f"r{i}",
        "name": name or f"r{i}",
        "device_type": {
            "id": 1,
            "url": f"{base}/api/dcim/device-types/1/",
            "display": "C9300-48P",
            "manufacturer": _nested(base, "dcim/manufacturers", 1, "Cisco", "cisco"),
            "model": "C9300-48P",
            "slug": "c9300-48p",
            "description": "",
        },
        "role": _nested(base, "dcim/device-roles", 1, role.title(), role),
        "tenant": None,
        "platform": (
            _nested(base, "dcim/platforms", 1, platform.upper(), platform) if platform else None
        ),
        "serial": "",
        "asset_tag": None,
        "site": _nested(base, "dcim/sites", 1, site.upper(), site),
        "location": None,
        "rack": None,
        "status": {"value": status, "label": status.title()},
        "primary_ip": ip_obj,
        "primary_ip4": ip_obj,
        "primary_ip6": None,
        "oob_ip": None,
        "description": "",
        "comments": "",
        "config_template": None,
        "config_context": config_context if config_context is not None else {"ntp": ["10.0.0.1"]},
        "local_context_data": None,
        "tags": [
            _nested(base, "extras/tags", n, t, t) | {"color": "9e9e9e"}
            for n, t in enumerate(tags, 1)
        ],
        "custom_fields": custom_fields or {},
        "created": "2024-01-01T00:00:00Z",
        "last_updated": "2024-06-01T00:00:00Z",
    }


def _nb2(base: str, object_type: str, name: str, **extra: Any) -> dict[str, Any]:
    oid = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{object_type}/{name}"))
    path = object_type.replace(".", "/")
    return {
        "id": oid,
        "object_type": object_type,
        "display": name,
        "url": f"{base}/api/{path}s/{oid}/",
        "natural_slug": name.lower(),
        "name": name,
        **extra,
    }


def nautobot_device(
    base: str,
    i: int,
    *,
    name: str | None = None,
    ip: str | None = "auto",
    platform: str | None = "Cisco IOS",
    network_driver: str = "cisco_ios",
    location: str = "DC1",
    role: str = "Router",
    tags: tuple[str, ...] = ("edge",),
    status: str = "Active",
    config_context: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One device as Nautobot 2.x lists it with ``depth=1&include=config_context``."""
    address = f"10.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}/24" if ip == "auto" else ip
    ip_obj = None
    if address is not None:
        host, _, mask = address.partition("/")
        ip_obj = _nb2(
            base,
            "ipam.ipaddress",
            address,
            address=address,
            host=host,
            mask_length=int(mask or 32),
            ip_version=4,
        )
    return {
        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"device/{i}")),
        "object_type": "dcim.device",
        "display": name or f"r{i}",
        "url": f"{base}/api/dcim/devices/{i}/",
        "name": name or f"r{i}",
        "serial": "",
        "device_type": _nb2(base, "dcim.devicetype", "C9300-48P", model="C9300-48P"),
        "status": _nb2(base, "extras.status", status, color="4caf50"),
        "role": _nb2(base, "extras.role", role),
        "tenant": None,
        "platform": (
            _nb2(
                base, "dcim.platform", platform, network_driver=network_driver, napalm_driver="ios"
            )
            if platform
            else None
        ),
        "location": _nb2(base, "dcim.location", location),
        "rack": None,
        "primary_ip4": ip_obj,
        "primary_ip6": None,
        "secrets_group": None,
        "local_config_context_data": None,
        "config_context": config_context if config_context is not None else {"snmp": "ro"},
        "tags": [_nb2(base, "extras.tag", t, color="9e9e9e") for t in tags],
        "custom_fields": {},
        "created": "2024-01-01T00:00:00Z",
        "last_updated": "2024-06-01T00:00:00Z",
    }


def _label(obj: Any, kind: str) -> str:
    if not isinstance(obj, dict):
        return ""
    if kind == "netbox":
        return str(obj.get("slug") or obj.get("value") or "")
    return str(obj.get("name") or "")


def _matches(device: dict[str, Any], filters: dict[str, list[str]], kind: str) -> bool:
    for key, wanted in filters.items():
        if key.startswith("cf_"):
            value = str((device.get("custom_fields") or {}).get(key[3:], ""))
            if value not in wanted:
                return False
        elif key == "tag":
            if not {_label(t, kind) for t in device["tags"]} & set(wanted):
                return False
        elif _label(device.get(key), kind) not in wanted:
            return False
    return True


@dataclass
class FixtureService:
    """The state behind the HTTP service; change ``devices`` between requests."""

    kind: str = "netbox"
    token: str = "0123456789abcdef"
    devices: list[dict[str, Any]] = field(default_factory=list)
    base: str = ""
    requests: int = 0
    queries: list[str] = field(default_factory=list)
    fail_with: int = 0
    """Answer every device request with this HTTP status (0 = off)."""

    def status(self) -> dict[str, Any]:
        version_key = "netbox-version" if self.kind == "netbox" else "nautobot-version"
        return {
            "django-version": "5.0.9",
            "installed-apps": {},
            version_key: "4.1.3" if self.kind == "netbox" else "2.2.0",
            "plugins": {},
            "python-version": "3.12.3",
            "rq-workers-running": 1,
        }

    def page(self, query: str) -> tuple[int, dict[str, Any]]:
        params = parse_qsl(query)
        limit = min(int(dict(params).get("limit", 50)), MAX_PAGE_SIZE)
        offset = int(dict(params).get("offset", 0))
        filters: dict[str, list[str]] = {}
        for key, value in params:
            if key not in ("limit", "offset", "depth", "include", "exclude"):
                filters.setdefault("location" if key == "location" else key, []).append(value)
        chosen = [d for d in self.devices if _matches(d, filters, self.kind)]
        rest = [(k, v) for k, v in params if k not in ("limit", "offset")]
        nxt = None
        if offset + limit < len(chosen):
            nxt = f"{self.base}/api/dcim/devices/?" + urlencode(
                [*rest, ("limit", limit), ("offset", offset + limit)]
            )
        prev = None
        if offset > 0:
            prev = f"{self.base}/api/dcim/devices/?" + urlencode(
                [*rest, ("limit", limit), ("offset", max(0, offset - limit))]
            )
        results = chosen[offset : offset + limit]
        if self.kind == "nautobot" and ("include", "config_context") not in params:
            results = [{k: v for k, v in d.items() if k != "config_context"} for d in results]
        return 200, {"count": len(chosen), "next": nxt, "previous": prev, "results": results}


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _send(self, code: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        state = self.server.state
        state.requests += 1
        parts = urlsplit(self.path)
        if self.headers.get("Authorization") != f"Token {state.token}":
            self._send(403, {"detail": "Invalid token"})
            return
        if parts.path == "/api/status/":
            self._send(200, state.status())
        elif parts.path == "/api/dcim/devices/":
            state.queries.append(parts.query)
            if state.fail_with:
                self._send(state.fail_with, {"detail": "fixture failure"})
                return
            self._send(*state.page(parts.query))
        else:
            self._send(404, {"detail": "Not found."})


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    state: FixtureService


@contextmanager
def fixture_service(kind: str = "netbox") -> Iterator[FixtureService]:
    """Run the service on 127.0.0.1 (a free port) in a thread; yields its state."""
    server = _Server(("127.0.0.1", 0), _Handler)
    state = FixtureService(kind=kind, base=f"http://127.0.0.1:{server.server_address[1]}")
    server.state = state
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join()

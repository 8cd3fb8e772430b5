"""NetBox and Nautobot inventory sources over their REST APIs (httpx).

``NetboxClient(source)`` reads ``/api/status/`` and pages through
``/api/dcim/devices/`` (``limit``/``offset`` and the ``next`` link, which must stay
on the source's origin so the token goes nowhere else). The token may be a secret
reference (``env:``, ``file:``, ``exec:``); it is sent as ``Authorization: Token ...``
and never appears in errors. Nautobot 2.x is asked for ``depth=1`` (nested objects
with names) and ``include=config_context``; NetBox includes config contexts by
default.

``map_devices`` turns the upstream devices into ``DeviceSpec``s: the name, the
primary IP (``primary_ip``, else ``primary_ip4``, else ``primary_ip6``) without its
prefix length as the host, the platform through ``platform_map`` (then the defaults
in ``PLATFORM_SLUGS``, Nautobot's ``network_driver``, and netfleet's own names),
groups ``site:<slug>``, ``role:<slug>`` and ``tag:<slug>`` (Nautobot: location and
names), tags from the tags, and ``data`` from the config context plus a ``netbox``
(or ``nautobot``) entry with the upstream id, status and custom fields. Devices that
cannot be used are returned as ``Skipped`` with the reason.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlsplit

import httpx
from pydantic import BaseModel, Field

from netfleet.core.errors import (
    ConfigurationError,
    IntegrationError,
    IntegrationUnavailable,
    UnknownPlatform,
)
from netfleet.core.inventory_yaml import normalize_platform
from netfleet.core.models import DeviceSpec
from netfleet.core.secretref import SECRETS, SecretResolver
from netfleet.platforms import get_platform

SourceKind = Literal["netbox", "nautobot"]

PLATFORM_SLUGS: dict[str, str] = {
    "cisco-ios": "cisco_ios",
    "cisco-ios-xe": "cisco_xe",
    "ios-xe": "cisco_xe",
    "iosxe": "cisco_xe",
    "cisco-nx-os": "cisco_nxos",
    "cisco-nxos": "cisco_nxos",
    "nx-os": "cisco_nxos",
    "cisco-ios-xr": "cisco_xr",
    "ios-xr": "cisco_xr",
    "cisco-asa": "cisco_asa",
    "arista-eos": "arista_eos",
    "juniper-junos": "juniper_junos",
    "junos": "juniper_junos",
}
"""Common NetBox platform slugs (and Nautobot names) mapped to netfleet platforms."""


class DeviceFilters(BaseModel):
    """Server-side filters; each list is OR-ed, different fields AND-ed (as the APIs do)."""

    site: list[str] = Field(default_factory=list, description="Site slugs (Nautobot: location).")
    role: list[str] = Field(default_factory=list)
    tag: list[str] = Field(default_factory=list)
    status: list[str] = Field(default_factory=list, description="e.g. active (Nautobot: Active).")
    platform: list[str] = Field(default_factory=list)
    custom_fields: dict[str, str] = Field(default_factory=dict, description="Sent as cf_NAME.")

    def params(self, kind: SourceKind) -> list[tuple[str, str]]:
        site_key = "location" if kind == "nautobot" else "site"
        out: list[tuple[str, str]] = []
        for key, values in (
            (site_key, self.site),
            ("role", self.role),
            ("tag", self.tag),
            ("status", self.status),
            ("platform", self.platform),
        ):
            out.extend((key, v) for v in values)
        out.extend((f"cf_{k}", v) for k, v in self.custom_fields.items())
        return out


class SourceConfig(BaseModel):
    """One NetBox or Nautobot inventory source."""

    name: str
    kind: SourceKind = "netbox"
    url: str = Field(description="Base URL, e.g. https://netbox.example.com")
    token: str = Field(repr=False, description="API token or a secret reference (env:NAME ...).")
    filters: DeviceFilters = Field(default_factory=DeviceFilters)
    platform_map: dict[str, str] = Field(default_factory=dict, description="Slug -> platform.")
    default_platform: str | None = Field(None, description="For devices with no platform.")
    page_size: int = Field(1000, ge=1, le=10000)
    timeout_seconds: float = Field(30.0, gt=0)
    verify_tls: bool = True

    def check(self) -> None:
        """Raise ConfigurationError for a bad URL or a mapping to an unknown platform."""
        try:
            parts = urlsplit(self.url)
            ok = parts.scheme in ("http", "https") and bool(parts.hostname) and parts.port != 0
        except ValueError:  # a bad port or IPv6 literal
            ok = False
        if not ok:
            raise ConfigurationError(f"source {self.name!r}: url {self.url!r} is not http(s)")
        targets = [*self.platform_map.values()]
        if self.default_platform:
            targets.append(self.default_platform)
        for target in targets:
            try:
                get_platform(target)
            except UnknownPlatform:
                raise ConfigurationError(
                    f"source {self.name!r}: platform_map names unknown platform {target!r}"
                ) from None


@dataclass(frozen=True, slots=True)
class Skipped:
    """An upstream device that was not turned into a netfleet device, and why."""

    name: str
    reason: str
    upstream_id: str = ""


@dataclass(slots=True)
class FetchStats:
    requests: int = 0
    devices: int = 0


class NetboxClient:
    """Reads one source; use ``async with``. ``stats.requests`` counts HTTP requests."""

    def __init__(self, source: SourceConfig, *, resolver: SecretResolver | None = None) -> None:
        source.check()
        self.source = source
        self._resolver = resolver or SECRETS
        self._origin = urlsplit(source.url)[:2]
        self._http: httpx.AsyncClient | None = None
        self.stats = FetchStats()

    def __repr__(self) -> str:
        return f"NetboxClient({self.source.name!r}, {self.source.kind}, {self.source.url!r})"

    async def __aenter__(self) -> NetboxClient:
        token = await self._resolver.resolve(
            self.source.token, what=f"source {self.source.name!r}: token"
        )
        headers = {"Authorization": f"Token {token}", "Accept": "application/json"}
        if self.source.kind == "nautobot":
            headers["Accept"] = "application/json; version=2.0"
        self._http = httpx.AsyncClient(
            base_url=self.source.url.rstrip("/"),
            headers=headers,
            timeout=self.source.timeout_seconds,
            verify=self.source.verify_tls,
            follow_redirects=False,
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    async def _get(self, url: str, params: list[tuple[str, str]] | None = None) -> Any:
        assert self._http is not None, "use `async with NetboxClient(...)`"
        where = f"{self.source.kind} source {self.source.name!r}"
        if url.startswith(("http://", "https://")) and urlsplit(url)[:2] != self._origin:
            raise IntegrationError(f"{where}: refusing to follow a link off {self.source.url}")
        self.stats.requests += 1
        try:
            if params:
                response = await self._http.get(url, params=tuple(params))
            else:  # a ``next`` link carries its own query
                response = await self._http.get(url)
        except httpx.HTTPError as exc:
            raise IntegrationUnavailable(
                f"{where}: {type(exc).__name__} talking to {self.source.url}"
            ) from None
        if response.status_code >= 500 or response.status_code == 429:
            raise IntegrationUnavailable(f"{where}: HTTP {response.status_code} for {url}")
        if response.status_code in (401, 403):
            raise IntegrationError(f"{where}: the token was refused (HTTP {response.status_code})")
        if response.status_code != 200:
            raise IntegrationError(f"{where}: HTTP {response.status_code} for {url}")
        try:
            return response.json()
        except ValueError:
            raise IntegrationError(f"{where}: {url} did not answer JSON") from None

    async def status(self) -> dict[str, Any]:
        """``/api/status/`` (versions, installed apps)."""
        body = await self._get("/api/status/")
        if not isinstance(body, dict):
            raise IntegrationError(f"source {self.source.name!r}: unexpected /api/status/ answer")
        return body

    async def devices(self) -> list[dict[str, Any]]:
        """Every device matching the source's filters, following ``next`` links."""
        params = [("limit", str(self.source.page_size))]
        params += self.source.filters.params(self.source.kind)
        if self.source.kind == "nautobot":
            params += [("depth", "1"), ("include", "config_context")]
        out: list[dict[str, Any]] = []
        url: str | None = "/api/dcim/devices/"
        seen: set[str] = set()
        first = True
        while url is not None:
            page = await self._get(url, params if first else None)
            first = False
            if not isinstance(page, dict) or not isinstance(page.get("results"), list):
                raise IntegrationError(
                    f"source {self.source.name!r}: /api/dcim/devices/ did not answer a page"
                )
            out.extend(r for r in page["results"] if isinstance(r, dict))
            url = page.get("next") or None
            if url is not None and url in seen:
                raise IntegrationError(
                    f"source {self.source.name!r}: pagination loops back to {url}"
                )
            seen.add(url or "")
        self.stats.devices = len(out)
        return out


# --- mapping ------------------------------------------------------------------------


def _label(obj: Any) -> str | None:
    """``slug``, else ``name``, of a nested object (NetBox has slugs, Nautobot 2.x names)."""
    if isinstance(obj, dict):
        for key in ("slug", "name", "value"):
            if isinstance(obj.get(key), str) and obj[key]:
                return str(obj[key])
    return obj if isinstance(obj, str) and obj else None


def _host(raw: dict[str, Any]) -> str | None:
    for key in ("primary_ip", "primary_ip4", "primary_ip6"):
        ip = raw.get(key)
        if isinstance(ip, dict) and isinstance(ip.get("address"), str):
            try:
                return str(ipaddress.ip_interface(ip["address"]).ip)
            except ValueError:
                continue
    return None


def _platform(raw: dict[str, Any], source: SourceConfig) -> tuple[str | None, str]:
    obj = raw.get("platform")
    candidates: list[str] = []
    driver: Any = None
    if isinstance(obj, dict):
        candidates = [v for v in (obj.get("slug"), obj.get("name")) if isinstance(v, str) and v]
        driver = obj.get("network_driver")
    if not candidates:
        return source.default_platform, "no platform"
    for name in candidates:
        if name in source.platform_map:
            return source.platform_map[name], ""
        if name.lower() in PLATFORM_SLUGS:
            return PLATFORM_SLUGS[name.lower()], ""
    for name in (driver, *candidates):
        if not isinstance(name, str) or not name:
            continue
        try:
            return get_platform(normalize_platform(name.replace("-", "_"))).name, ""
        except UnknownPlatform:
            continue
    return None, f"unknown platform {candidates[0]!r} (map it in platform_map)"


def map_device(raw: dict[str, Any], source: SourceConfig) -> DeviceSpec | Skipped:
    """One upstream device as a ``DeviceSpec``, or why it is skipped."""
    upstream_id = str(raw.get("id", ""))
    name = raw.get("name")
    if not isinstance(name, str) or not name:
        return Skipped(f"#{upstream_id}", "no name", upstream_id)
    host = _host(raw)
    if host is None:
        return Skipped(name, "no primary IP", upstream_id)
    platform, reason = _platform(raw, source)
    if platform is None:
        return Skipped(name, reason, upstream_id)
    site = _label(raw.get("location") if source.kind == "nautobot" else raw.get("site"))
    role = _label(raw.get("role") or raw.get("device_role"))
    tags = tuple(t for t in (_label(x) for x in raw.get("tags") or []) if t)
    groups = [f"site:{site}"] if site else []
    groups += [f"role:{role}"] if role else []
    groups += [f"tag:{t}" for t in tags]
    context = raw.get("config_context")
    data: dict[str, Any] = dict(context) if isinstance(context, dict) else {}
    data[source.kind] = {
        "id": upstream_id,
        "source": source.name,
        "status": _label(raw.get("status")),
        "custom_fields": raw.get("custom_fields") or {},
    }
    return DeviceSpec(
        name=name,
        host=host,
        platform=platform,
        groups=tuple(groups),
        tags=tags,
        data=data,
    )


def map_devices(
    raws: list[dict[str, Any]], source: SourceConfig
) -> tuple[list[DeviceSpec], list[Skipped]]:
    """The usable devices and the skipped ones (also duplicates of a name, after the first)."""
    specs: list[DeviceSpec] = []
    skipped: list[Skipped] = []
    seen: set[str] = set()
    for raw in raws:
        mapped = map_device(raw, source)
        if isinstance(mapped, Skipped):
            skipped.append(mapped)
        elif mapped.name in seen:
            skipped.append(Skipped(mapped.name, "duplicate name", str(raw.get("id", ""))))
        else:
            seen.add(mapped.name)
            specs.append(mapped)
    return specs, skipped


@dataclass(slots=True)
class Fetched:
    """What one read of a source gave."""

    devices: list[DeviceSpec]
    skipped: list[Skipped]
    status: dict[str, Any] = field(default_factory=dict)
    requests: int = 0


async def fetch_source(source: SourceConfig, *, resolver: SecretResolver | None = None) -> Fetched:
    """Read ``/api/status/`` and the devices of ``source``, mapped."""
    async with NetboxClient(source, resolver=resolver) as client:
        status = await client.status()
        raws = await client.devices()
        specs, skipped = map_devices(raws, source)
        return Fetched(specs, skipped, status, client.stats.requests)

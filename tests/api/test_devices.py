"""Devices and groups over the API: CRUD, filters, cursor pagination, bulk import."""

from __future__ import annotations

import httpx
import pytest

PROBLEM = "application/problem+json"


async def _cred(client: httpx.AsyncClient, name: str = "c1") -> None:
    r = await client.post(
        "/api/v1/credentials", json={"name": name, "username": "u", "password": "p"}
    )
    assert r.status_code == 201, r.text


def _dev(name: str, **extra: object) -> dict[str, object]:
    return {"name": name, "host": "127.0.0.1", "platform": "cisco_ios", **extra}


async def test_device_crud(client: httpx.AsyncClient) -> None:
    await _cred(client)
    r = await client.post(
        "/api/v1/devices",
        json=_dev("r1", port=2201, credentials=["c1"], groups=["core"], tags=["lab"]),
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["name"] == "r1"
    assert body["port"] == 2201
    assert body["credentials"] == ["c1"]
    assert body["usernames"] == ["u"]
    assert body["groups"] == ["core"]
    gen = body["generation"]

    r = await client.get("/api/v1/devices/r1")
    assert r.status_code == 200
    assert r.json()["id"] == body["id"]

    r = await client.patch("/api/v1/devices/r1", json={"max_sessions": 4, "tags": ["x"]})
    assert r.status_code == 200, r.text
    assert r.json()["max_sessions"] == 4
    assert r.json()["tags"] == ["x"]
    assert r.json()["groups"] == ["core"]
    assert r.json()["generation"] > gen

    r = await client.put("/api/v1/devices/r1", json={"host": "10.0.0.1", "platform": "arista_eos"})
    assert r.status_code == 200
    assert r.json()["platform"] == "arista_eos"
    assert r.json()["credentials"] == []

    r = await client.put("/api/v1/devices/r2", json={"host": "10.0.0.2", "platform": "linux"})
    assert r.status_code == 201

    r = await client.delete("/api/v1/devices/r1")
    assert r.status_code == 204
    r = await client.get("/api/v1/devices/r1")
    assert r.status_code == 404
    assert r.headers["content-type"].startswith(PROBLEM)
    assert r.json()["kind"] == "not_found"


async def test_device_errors(client: httpx.AsyncClient) -> None:
    assert (await client.post("/api/v1/devices", json=_dev("d"))).status_code == 201
    r = await client.post("/api/v1/devices", json=_dev("d"))
    assert r.status_code == 409
    assert r.json()["status"] == 409

    r = await client.post("/api/v1/devices", json=_dev("e", platform="nokia_sros_x"))
    assert r.status_code == 422
    assert r.json()["kind"] == "unknown_platform"
    assert r.json()["errors"][0]["field"] == "platform"

    r = await client.post("/api/v1/devices", json=_dev("e", credentials=["nope"]))
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "credentials"

    r = await client.post("/api/v1/devices", json={"name": "e", "platform": "cisco_ios", "port": 0})
    assert r.status_code == 422
    fields = {e["field"] for e in r.json()["errors"]}
    assert {"host", "port"} <= fields
    assert all("input" not in e for e in r.json()["errors"])

    r = await client.post(
        "/api/v1/devices", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert r.status_code == 400
    assert r.json()["kind"] == "bad_json"

    assert (await client.patch("/api/v1/devices/zz", json={"port": 2})).status_code == 404
    assert (await client.delete("/api/v1/devices/zz")).status_code == 404
    r = await client.patch("/api/v1/devices/d", json={"port": 70000})
    assert r.status_code == 422


async def test_device_filters_and_pagination(client: httpx.AsyncClient) -> None:
    for i in range(7):
        platform = "cisco_ios" if i % 2 else "arista_eos"
        groups = ["even"] if i % 2 == 0 else ["odd"]
        r = await client.post(
            "/api/v1/devices",
            json=_dev(f"edge-{i}", platform=platform, groups=groups, tags=[f"t{i}"]),
        )
        assert r.status_code == 201
    assert (await client.post("/api/v1/devices", json=_dev("core-1"))).status_code == 201

    async def names(**params: object) -> list[str]:
        r = await client.get("/api/v1/devices", params=params)
        assert r.status_code == 200, r.text
        return [d["name"] for d in r.json()["items"]]

    assert await names(name="core-*") == ["core-1"]
    assert len(await names(group="even")) == 4
    assert await names(platform="arista_eos", group="odd") == []
    assert await names(tag="t3") == ["edge-3"]

    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, object] = {"limit": 3}
        if cursor is not None:
            params["cursor"] = cursor
        page = (await client.get("/api/v1/devices", params=params)).json()
        seen += [d["name"] for d in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted([f"edge-{i}" for i in range(7)] + ["core-1"])
    assert len(seen) == len(set(seen))

    r = await client.get("/api/v1/groups")
    assert r.json()["items"] == [{"name": "even", "devices": 4}, {"name": "odd", "devices": 3}]
    assert (await client.get("/api/v1/devices", params={"limit": 0})).status_code == 422


NETFLEET_YAML = """
devices:
  - name: y1
    host: 127.0.0.1
    port: 2001
    platform: cisco_ios
    username: admin
    password: Pw-Yaml-1
    groups: [dc1]
  - name: y2
    host: 127.0.0.1
    platform: eos
"""

NORNIR_HOSTS = """
n1:
  hostname: 10.1.0.1
  groups: [core]
n2:
  hostname: 10.1.0.2
  platform: junos
  groups: [core]
"""
NORNIR_GROUPS = """
core:
  platform: ios
  data:
    tags: [nornir]
"""
NORNIR_DEFAULTS = """
username: ops
password: Pw-Nornir-2
"""


async def test_import_netfleet_yaml_json_and_raw(client: httpx.AsyncClient) -> None:
    r = await client.post(
        "/api/v1/devices/import", json={"format": "netfleet", "text": NETFLEET_YAML}
    )
    assert r.status_code == 200, r.text
    assert r.json()["created"] == 2
    assert {row["name"] for row in r.json()["rows"]} == {"y1", "y2"}
    y2 = (await client.get("/api/v1/devices/y2")).json()
    assert y2["platform"] == "arista_eos"
    y1 = (await client.get("/api/v1/devices/y1")).json()
    assert y1["usernames"] == ["admin"]

    r = await client.post(
        "/api/v1/devices/import",
        content=NETFLEET_YAML.encode(),
        headers={"content-type": "application/yaml"},
    )
    assert r.json()["unchanged"] == 2

    r = await client.post(
        "/api/v1/devices/import", json={"format": "netfleet", "text": "devices:\n  - name: x\n"}
    )
    assert r.status_code == 422
    assert "inventory.yaml" in r.json()["detail"]
    assert "/tmp" not in r.json()["detail"]


async def test_import_errors_name_the_clients_file(client: httpx.AsyncClient) -> None:
    bad = "devices:\n  - name: x\n"
    r = await client.post(
        "/api/v1/devices/import", json={"text": bad, "filename": "lab/fleet.yaml"}
    )
    assert r.status_code == 422
    assert r.json()["detail"].startswith("lab/fleet.yaml:2: field 'host': missing")
    r = await client.post(
        "/api/v1/devices/import", files={"file": ("site-a.yaml", bad)}, data={"format": "netfleet"}
    )
    assert r.status_code == 422
    assert r.json()["detail"].startswith("site-a.yaml:2: ")
    r = await client.post("/api/v1/devices/import", json={"text": bad, "filename": "a\nb"})
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "filename"


async def test_import_nornir_json_and_multipart(client: httpx.AsyncClient) -> None:
    r = await client.post(
        "/api/v1/devices/import",
        json={"format": "nornir", "hosts": NORNIR_HOSTS, "groups": NORNIR_GROUPS,
              "defaults": NORNIR_DEFAULTS},
    )  # fmt: skip
    assert r.status_code == 200, r.text
    assert r.json()["created"] == 2
    n2 = (await client.get("/api/v1/devices/n2")).json()
    assert n2["platform"] == "juniper_junos"
    assert n2["groups"] == ["core"]
    assert n2["usernames"] == ["ops"]

    r = await client.post(
        "/api/v1/devices/import",
        data={"format": "nornir"},
        files={
            "hosts": ("hosts.yaml", NORNIR_HOSTS.replace("n1", "m1").replace("n2", "m2")),
            "groups": ("groups.yaml", NORNIR_GROUPS),
        },
    )
    assert r.status_code == 200, r.text
    assert r.json()["created"] == 2
    assert (await client.get("/api/v1/devices/m1")).json()["platform"] == "cisco_ios"

    r = await client.post("/api/v1/devices/import", json={"format": "nornir"})
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "hosts"


async def test_import_csv_reports_each_row(client: httpx.AsyncClient) -> None:
    await _cred(client, "shared")
    text = (
        "name,host,platform,port,credentials,groups,tags\n"
        "c1,10.0.0.1,ios,22,shared,core;edge,a\n"
        "c2,10.0.0.2,cisco_ios,notaport,,,\n"
        "c3,10.0.0.3,martian_os,,,,\n"
        ",10.0.0.4,cisco_ios,,,,\n"
        "c5,10.0.0.5,linux,2222,,,\n"
    )
    r = await client.post("/api/v1/devices/import", json={"format": "csv", "text": text})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["created"] == 2
    assert body["errors"] == 3
    by_name = {row["name"]: row for row in body["rows"]}
    assert by_name["c1"]["action"] == "created"
    assert "port" in by_name["c2"]["error"]
    assert by_name["c3"]["action"] == "error"
    assert "line 5" in by_name["line 5"]["error"]
    c1 = (await client.get("/api/v1/devices/c1")).json()
    assert c1["groups"] == ["core", "edge"]
    assert c1["credentials"] == ["shared"]

    r = await client.post(
        "/api/v1/devices/import", content=b"name,host\nx,y\n", headers={"content-type": "text/csv"}
    )
    assert r.status_code == 422
    assert "platform" in r.json()["detail"]

    r = await client.post(
        "/api/v1/devices/import", content=b"x", headers={"content-type": "application/xml"}
    )
    assert r.status_code == 415


@pytest.mark.parametrize("body", [{}, {"format": "csv"}, {"format": "xml", "text": "a"}])
async def test_import_rejects_incomplete_requests(
    client: httpx.AsyncClient, body: dict[str, str]
) -> None:
    r = await client.post("/api/v1/devices/import", json=body)
    assert r.status_code == 422
    assert r.json()["errors"]

"""Hostile requests against a real ``netfleet serve``: the event loop stays free."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import sys
from pathlib import Path

import httpx
import pytest

from netfleet_sim import Simulator
from tests.cli import test_serve as test_svc_serve
from tests.cli.test_serve import PRESET, Served, _env, start
from tests.support.api import SIM_ENABLE, SIM_PASSWORD, wait_finished

ATTACK_PATH = "/x" + "%0A" * 20_000


async def _serve(tmp_path: Path, **env: str) -> Served:
    return await start(tmp_path, _env(tmp_path, NETFLEET_ADMIN_TOKEN=PRESET, **env))


async def test_newline_path_does_not_stall_other_requests(tmp_path: Path) -> None:
    """Unauthenticated requests with 20,000 encoded newlines; /healthz answers meanwhile."""
    served = await _serve(tmp_path)
    try:
        async with (
            httpx.AsyncClient(base_url=served.url, timeout=60) as attacker,
            httpx.AsyncClient(base_url=served.url, timeout=60) as probe,
        ):
            assert (await probe.get("/healthz")).status_code == 200
            for name in ("serve.db", "secret.key"):  # owner-only files
                assert (tmp_path / name).stat().st_mode & 0o777 == 0o600, name
            statuses: list[int] = []

            async def attack() -> None:
                for _ in range(5):
                    statuses.append((await attacker.get(ATTACK_PATH)).status_code)

            loop = asyncio.get_running_loop()
            task = asyncio.create_task(attack())
            latencies: list[float] = []
            while not task.done() or not latencies:
                started = loop.time()
                r = await probe.get("/healthz")
                assert r.status_code == 200
                latencies.append(loop.time() - started)
            await task
            assert statuses == [404] * 5
            # The bound (1 s), on the best probe: a loaded machine may delay some.
            assert min(latencies) < 1.0, latencies
            assert sorted(latencies)[len(latencies) // 2] < 1.0, latencies
        code, err = await served.stop()
        assert code == 0
        assert "\\n" * 600 not in err  # the path is cut in the request log (JSON-escaped)
    finally:
        if served.proc.returncode is None:
            served.proc.kill()
            await served.proc.wait()


async def test_yaml_alias_bomb_import_is_refused_with_a_problem(
    client: httpx.AsyncClient,
) -> None:
    names = "abcdefghi"
    lines = ["a: &a [lol,lol,lol,lol,lol,lol,lol,lol,lol]"]
    lines += [f"{n}: &{n} [{','.join([f'*{p}'] * 9)}]" for p, n in itertools.pairwise(names)]
    bomb = "\n".join(lines) + "\n"
    assert len(bomb) < 400
    for body in (
        {"format": "netfleet", "text": bomb},
        {"format": "nornir", "hosts": bomb},
    ):
        r = await client.post("/api/v1/devices/import", json=body)
        assert 400 <= r.status_code < 500, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
        assert "YAML refused: aliases expand" in r.json()["detail"], r.text


LOW_NOFILE = 256
LIMITED_NETFLEET = [
    sys.executable,
    "-c",
    "import resource; "
    f"resource.setrlimit(resource.RLIMIT_NOFILE, ({LOW_NOFILE}, {LOW_NOFILE})); "
    "from netfleet.cli.app import main; main()",
]


Conn = tuple[asyncio.StreamReader, asyncio.StreamWriter]


async def _open_idle(url: str, count: int) -> list[Conn]:
    host, port = url.removeprefix("http://").rsplit(":", 1)
    conns = []
    for _ in range(count):
        try:
            conns.append(await asyncio.open_connection(host, int(port)))
        except OSError:
            continue
    return conns


@pytest.mark.slow
async def test_connection_flood_above_the_descriptor_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Idle and half-sent connections beyond the server's descriptors; it recovers."""
    monkeypatch.setattr(test_svc_serve, "NETFLEET", LIMITED_NETFLEET)
    served = await _serve(
        tmp_path,
        NETFLEET_SERVICE__HEADER_TIMEOUT_SECONDS="1",
        NETFLEET_SERVICE__MAX_CONNECTIONS="1000",  # above the descriptors: EMFILE is reached
    )
    conns: list[Conn] = []
    try:
        async with (
            Simulator(devices=1, platforms=["cisco_ios"], password=SIM_PASSWORD,
                      enable_secret=SIM_ENABLE) as sim,
            httpx.AsyncClient(base_url=served.url, timeout=30,
                              headers={"Authorization": f"Bearer {PRESET}"}) as c,
        ):  # fmt: skip
            conns = await _open_idle(served.url, 2 * LOW_NOFILE)
            for _, w in conns[::2]:
                w.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # headers never finished
            assert len(conns) > LOW_NOFILE
            # The server closes every one of them after the header deadline.
            for reader, _ in conns:
                reader_closed = await asyncio.wait_for(_closed_by_peer(reader), timeout=60)
                assert reader_closed
            assert (await c.get("/healthz")).status_code == 200
            r = await c.post(
                "/api/v1/credentials",
                json={"name": "lab", "username": "admin", "password": SIM_PASSWORD,
                      "enable_secret": SIM_ENABLE},
            )  # fmt: skip
            assert r.status_code == 201, r.text
            dev = sim.devices[0]
            r = await c.put(
                f"/api/v1/devices/{dev.name}",
                json={"host": dev.host, "port": dev.port, "platform": dev.platform,
                      "credentials": ["lab"]},
            )  # fmt: skip
            assert r.status_code == 201, r.text
            job_in = {"targets": {"devices": [dev.name]}, "commands": ["show clock"]}
            r = await c.post("/api/v1/jobs", json=job_in)
            assert r.status_code in (200, 201, 202), r.text
            job = await wait_finished(c, r.json()["id"], timeout=60)
            assert job["state"] == "succeeded", job
        code, err = await served.stop()
        assert code == 0
        assert err.count("cannot accept connections") <= 10, err[-2000:]
        assert "a worker loop crashed" not in err
    finally:
        for _, w in conns:
            w.close()
        if served.proc.returncode is None:
            served.proc.kill()
            await served.proc.wait()


async def _closed_by_peer(reader: asyncio.StreamReader) -> bool:
    with contextlib.suppress(ConnectionError):
        await reader.read()  # EOF (or reset) once the server closes its side
    return True


async def test_bad_device_names_are_clear_4xx_problems(client: httpx.AsyncClient) -> None:
    fields = {"host": "127.0.0.1", "platform": "cisco_ios"}
    for name in ("../../x", "/abs/x", "core/sw1", "a\x00b", "a\x1bb"):
        r = await client.post("/api/v1/devices", json={"name": name, **fields})
        assert r.status_code == 422, (name, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
    r = await client.put("/api/v1/devices/a%00b", json=fields)
    assert r.status_code == 422, r.text
    assert "U+0000" in r.json()["detail"]
    csv = "name,host,platform\n../x,127.0.0.1,cisco_ios\nok1,127.0.0.1,cisco_ios\n"
    r = await client.post("/api/v1/devices/import", json={"format": "csv", "text": csv})
    assert r.status_code == 200, r.text
    rows = {row["name"]: row for row in r.json()["rows"]}
    assert rows["ok1"]["action"] == "created"
    assert "contains '/'" in rows["../x"]["error"]
    yaml_doc = "devices:\n  - {name: 'a/b', host: 127.0.0.1, platform: cisco_ios}\n"
    r = await client.post("/api/v1/devices/import", json={"format": "netfleet", "text": yaml_doc})
    assert 400 <= r.status_code < 500
    assert "'/'" in r.json()["detail"]


async def test_options_lists_every_method_and_bad_json_is_documented(
    client: httpx.AsyncClient,
) -> None:
    r = await client.options("/api/v1/devices")
    assert r.status_code == 405
    assert {"GET", "POST"} <= {m.strip() for m in r.headers["allow"].split(",")}
    r = await client.request("OPTIONS", "/api/v1/devices/sw1")
    assert {"GET", "PUT", "PATCH", "DELETE"} <= {m.strip() for m in r.headers["allow"].split(",")}
    spec = (await client.get("/api/openapi.json")).json()
    with_body = [
        (path, method, op)
        for path, item in spec["paths"].items()
        for method, op in item.items()
        if isinstance(op, dict) and "requestBody" in op
    ]
    assert with_body
    for path, method, op in with_body:
        assert "400" in op["responses"], (method, path)
    r = await client.post(
        "/api/v1/devices", content=b"{bad", headers={"content-type": "application/json"}
    )
    assert r.status_code == 400
    assert r.json()["kind"] == "bad_json"

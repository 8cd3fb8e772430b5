"""Hostile requests against a real ``netfleet serve``: the event loop stays free."""

from __future__ import annotations

import asyncio
import itertools
from pathlib import Path

import httpx
from test_svc_serve import PRESET, Served, _env, start

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

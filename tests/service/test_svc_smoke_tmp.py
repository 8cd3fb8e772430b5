from __future__ import annotations
import httpx
from conftest import wait_finished

async def test_smoke(client: httpx.AsyncClient, fleet: list[str], running) -> None:
    r = await client.post("/api/v1/jobs", json={"targets": {"groups": ["lab"]}, "commands": ["show version", "show ip interface brief"], "options": {"parse": "textfsm"}})
    assert r.status_code == 201, r.text
    job = await wait_finished(client, r.json()["id"])
    import json; print(json.dumps(job, indent=1)[:3000])
    r = await client.get(f"/api/v1/jobs/{job['id']}/events")
    print(r.json()["items"][:5])
    r = await client.get("/api/v1/sessions"); print(r.json())
    r = await client.get("/metrics"); print(r.text[:3000])
    r = await client.get("/api/v1/audit"); print(r.json())

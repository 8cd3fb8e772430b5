"""No secret ever leaves the service: not in responses, log lines, session logs, or the
database file (stored encrypted)."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from netfleet.core.logging import configure_logging
from netfleet.core.settings import LogSettings, Settings
from netfleet_sim import Simulator
from tests.support.api import SIM_ENABLE, SIM_PASSWORD, wait_finished

UNUSED_PASSWORD = "Gnu-Pw-4410-unused"
KEY_PASSPHRASE = "Ibis-Pass-8123-k"
CSV_PASSWORD = "Tapir-Csv-3307-z"
SECRETS = (SIM_PASSWORD, SIM_ENABLE, UNUSED_PASSWORD, KEY_PASSPHRASE, CSV_PASSWORD)


def _files(session_dir: Path, db_dir: Path) -> tuple[list[str], bytes]:
    """Every session log's text, and the database files' bytes."""
    logs = [p.read_text(errors="replace") for p in session_dir.rglob("*") if p.is_file()]
    return logs, b"".join(p.read_bytes() for p in db_dir.glob("netfleet.db*"))


@pytest.fixture(params=["json", "text"])
def log_buffer(request: pytest.FixtureRequest) -> Iterator[io.StringIO]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    buffer = io.StringIO()
    configure_logging(LogSettings(level="DEBUG", format=request.param), stream=buffer)
    try:
        yield buffer
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in handlers:
            root.addHandler(handler)
        root.setLevel(level)


async def test_no_secret_in_responses_logs_session_logs_or_database(
    log_buffer: io.StringIO,
    client: httpx.AsyncClient,
    settings: Settings,
    tmp_path: Path,
    fleet: list[str],
    sim: Simulator,
    running: object,
) -> None:
    texts: list[str] = []

    async def call(method: str, url: str, **kw: object) -> httpx.Response:
        r = await client.request(method, url, **kw)  # type: ignore[arg-type]
        texts.append(r.text)
        return r

    r = await call("POST", "/api/v1/credentials", json={
        "name": "spare", "username": "x", "password": UNUSED_PASSWORD,
        "private_key_passphrase": KEY_PASSPHRASE})  # fmt: skip
    assert r.status_code == 201, r.text
    r = await call(
        "PUT", "/api/v1/credentials/spare", json={"username": "y", "password": UNUSED_PASSWORD}
    )
    assert r.status_code == 200, r.text
    await call("POST", "/api/v1/credentials", json={"name": "bad", "password": UNUSED_PASSWORD})
    await call("POST", "/api/v1/credentials", json={
        "name": "bad2", "username": "u", "password": 12345, "note": UNUSED_PASSWORD})  # fmt: skip
    await call("POST", "/api/v1/credentials", json={"name": "spare", "username": "u",
                                                    "password": UNUSED_PASSWORD})  # fmt: skip
    await call("POST", "/api/v1/devices/import", json={"format": "csv", "text":
        f"name,host,platform,username,password\ncsv1,127.0.0.1,linux,u,{CSV_PASSWORD}\n"
        f"csv2,127.0.0.1,nope,u,{CSV_PASSWORD}\n"})  # fmt: skip
    await call("GET", "/api/v1/credentials")
    await call("GET", "/api/v1/credentials/lab")
    await call("GET", "/api/v1/devices")
    await call("GET", "/api/v1/devices/csv1")
    commands = ["show version", "show running-config", "show nonsense"]
    r = await call(
        "POST", "/api/v1/jobs", json={"targets": {"devices": fleet}, "commands": commands}
    )
    job = await wait_finished(client, r.json()["id"])
    assert job["tasks"][0]["results"]
    # A login refused with the wrong (stored) password: its error must not echo it.
    dev = sim.devices[0]
    r = await call("POST", "/api/v1/devices", json={
        "name": "wrong-pw", "host": dev.host, "port": dev.port, "platform": dev.platform,
        "credentials": ["spare"]})  # fmt: skip
    assert r.status_code == 201, r.text
    r = await call("POST", "/api/v1/jobs", json={
        "targets": {"devices": ["wrong-pw"]}, "commands": ["show version"],
        "options": {"max_attempts": 1}})  # fmt: skip
    assert r.status_code == 201, r.text
    refused = await wait_finished(client, r.json()["id"])
    assert refused["state"] == "failed"
    texts.append(json.dumps(refused))
    await call("GET", f"/api/v1/jobs/{job['id']}", params={"all_attempts": "true"})
    await call("GET", f"/api/v1/jobs/{job['id']}/events")
    await call("GET", f"/api/v1/jobs/{job['id']}/events/stream")
    await call("GET", "/api/v1/audit")
    await call("GET", "/api/v1/sessions")
    await call("GET", "/api/v1/workers")
    await call("GET", "/metrics")

    session_dir = settings.connect.session_log_dir
    assert session_dir is not None
    session_logs, database = _files(session_dir, tmp_path)
    assert session_logs, "the session logs were not written"
    logs = log_buffer.getvalue()
    assert "request" in logs
    assert "wrong-pw" in logs  # the refused login was logged (with its device context)
    assert b"csv1" in database
    for secret in SECRETS:
        for text in texts:
            assert secret not in text
        assert secret not in logs
        for text in session_logs:
            assert secret not in text
        assert secret.encode() not in database

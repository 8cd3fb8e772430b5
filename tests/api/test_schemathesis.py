"""Property-based requests generated from the app's OpenAPI document: never a 5xx.

Schemathesis generates valid and invalid requests for every operation; each
answer must be below 500, and every error must be a problem document.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from cryptography.fernet import Fernet
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from netfleet.api import create_app
from netfleet.core.models import Credential
from netfleet.store import open_store
from tests.support.service import service_settings

TOKEN = "nf_schemathesis-admin-token-000000000000"
HEADERS = {"Authorization": f"Bearer {TOKEN}"}
EXAMPLES = 15


@pytest.fixture
def api_schema(tmp_path: Path) -> Iterator[Any]:
    conf = service_settings(tmp_path)

    async def setup() -> Any:
        store = await open_store(conf.database.url, settings=conf, secret_key=Fernet.generate_key())
        await store.tokens.ensure("admin", "admin", TOKEN)
        await store.credentials.upsert(Credential(username="u", password="p", name="c"))
        return store

    store = asyncio.run(setup())
    app = create_app(store, conf)
    app.state.netfleet.stopping.set()  # live event streams end after one poll
    try:
        yield schemathesis.openapi.from_asgi("/api/openapi.json", app)
    finally:
        asyncio.run(store.close())


def _check(case: Any) -> None:
    response = case.call(headers=HEADERS)
    where = f"{case.method} {case.formatted_path}"
    assert response.status_code < 500, (where, response.text[:500])
    if response.status_code >= 400:
        ctype = response.headers.get("content-type", [""])
        assert ctype[0].startswith("application/problem+json"), where


@pytest.mark.slow
def test_no_server_errors(api_schema: Any) -> None:
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 26
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(
                max_examples=EXAMPLES,
                deadline=None,
                suppress_health_check=list(HealthCheck),
                derandomize=True,
                database=None,
            )
            def run(case: Any) -> None:
                _check(case)

            try:
                run()
            except Unsatisfiable:  # no parameters to make invalid (e.g. /healthz)
                assert mode is GenerationMode.NEGATIVE

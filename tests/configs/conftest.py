"""Config tests start from a clean platform registry."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from netfleet.platforms import ENV_VAR, reset_registry


@pytest.fixture(autouse=True)
def clean_registry(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv(ENV_VAR, raising=False)
    reset_registry()
    yield
    reset_registry()

"""Config tests: sample outputs as devices print them, and a clean platform registry."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from netfleet.platforms import ENV_VAR, reset_registry

DATA = Path(__file__).parent / "data"


def sample(name: str) -> str:
    """The text of ``tests/configs/data/<name>.txt``."""
    return (DATA / f"{name}.txt").read_text(encoding="utf-8")


@pytest.fixture(autouse=True)
def clean_registry(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv(ENV_VAR, raising=False)
    reset_registry()
    yield
    reset_registry()

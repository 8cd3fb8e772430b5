"""Sample outputs as devices print them (``tests/configs/data``)."""

from __future__ import annotations

from pathlib import Path

DATA = Path(__file__).parent / "data"


def sample(name: str) -> str:
    """The text of ``tests/configs/data/<name>.txt``."""
    return (DATA / f"{name}.txt").read_text(encoding="utf-8")

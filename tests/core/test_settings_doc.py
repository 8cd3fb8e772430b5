"""docs/configuration.md is generated from the settings models and must stay current."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel

from netfleet.core.settings import Settings
from netfleet.core.settings_doc import render_markdown

DOC = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"


def test_committed_reference_equals_the_rendering() -> None:
    assert DOC.read_text(encoding="utf-8") == render_markdown(), (
        "docs/configuration.md is stale: run "
        "`python -m netfleet.core.settings_doc > docs/configuration.md`"
    )


def test_every_setting_is_documented() -> None:
    text = render_markdown()
    for name, info in Settings.model_fields.items():
        annotation = info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            for key, field in annotation.model_fields.items():
                assert field.description, f"{name}.{key} has no description"
                assert f"`NETFLEET_{name.upper()}__{key.upper()}`" in text
        else:
            assert info.description, f"{name} has no description"

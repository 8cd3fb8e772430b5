"""YAML limits: alias bombs, recursive aliases, depth and size are refused early."""

from __future__ import annotations

import pytest

from netfleet.core import inventory_yaml
from netfleet.core.errors import InventoryError
from netfleet.core.inventory_yaml import MAX_ALIASES, parse_yaml


def alias_bomb(levels: int = 9) -> str:
    names = "abcdefghijklmnop"
    lines = ["a: &a [lol,lol,lol,lol,lol,lol,lol,lol,lol]"]
    for i in range(1, levels):
        refs = ",".join([f"*{names[i - 1]}"] * 9)
        lines.append(f"{names[i]}: &{names[i]} [{refs}]")
    return "\n".join(lines) + "\n"


def test_alias_bomb_is_refused() -> None:
    bomb = alias_bomb()
    assert len(bomb) < 400
    with pytest.raises(InventoryError, match=r"inv\.yaml: YAML refused: aliases expand"):
        parse_yaml(bomb, "inv.yaml")


def test_many_aliases_are_refused() -> None:
    text = "a: &a x\nb: [" + ", ".join(["*a"] * (MAX_ALIASES + 1)) + "]\n"
    with pytest.raises(InventoryError, match=f"more than {MAX_ALIASES} aliases"):
        parse_yaml(text, "inv.yaml")


def test_few_aliases_expanding_hugely_are_refused() -> None:
    # 4 levels of 9 aliases each: under the alias count, 9**4 nodes when expanded.
    assert MAX_ALIASES > 9 * 4
    with pytest.raises(InventoryError, match="expand to more than"):
        parse_yaml(alias_bomb(5).replace("lol", "[1,2,3,4,5,6,7,8]"), "inv.yaml")


def test_recursive_alias_and_depth_are_refused() -> None:
    with pytest.raises(InventoryError, match="recursive"):
        parse_yaml("a: &a [1, *a]\n", "inv.yaml")
    with pytest.raises(InventoryError, match="deeper than"):
        parse_yaml("[" * 150 + "]" * 150, "inv.yaml")


def test_large_documents_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(inventory_yaml, "MAX_YAML_CHARS", 1000)
    with pytest.raises(InventoryError, match="larger than 1000"):
        parse_yaml("a: " + "x" * 2000, "inv.yaml")


def test_ordinary_anchors_still_work() -> None:
    doc = parse_yaml("base: &b {port: 22}\ndevs: [*b, *b]\n", "inv.yaml")
    assert doc["devs"][1] == {"port": 22}

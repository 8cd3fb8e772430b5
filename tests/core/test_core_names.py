"""Device names: the character set, and file names derived from names."""

from __future__ import annotations

from pathlib import Path

import pytest

from netfleet.core.errors import ValidationError
from netfleet.core.names import check_device_name, child_path, file_stem, name_problem


@pytest.mark.parametrize("name", ["sw1", "core-sw1.dc1", "r1:ssh", "a@b+c_d", "9k"])
def test_valid_names(name: str) -> None:
    assert name_problem(name) is None


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("", "empty"),
        ("../../x", "'/'"),
        ("/abs/x", "'/'"),
        ("core/sw1", "'/'"),
        ("a\x00b", "U+0000"),
        ("a\x1b[31m", "U+001B"),
        ("a b", "U+0020"),
        ("..", "must start"),
        ("x" * 256, "at most 255"),
    ],
)
def test_invalid_names_say_why(name: str, problem: str) -> None:
    with pytest.raises(ValidationError, match=r"device name|at most|empty") as info:
        check_device_name(name)
    assert problem in str(info.value)


def test_file_stems_are_one_to_one_and_stay_inside(tmp_path: Path) -> None:
    names = ["core/sw1", "core_sw1", "core%2Fsw1", "../../x", "/abs/x", "..", ".", "a\x00b"]
    stems = [file_stem(n) for n in names]
    assert len(set(stems)) == len(names)
    for name in names:
        path = child_path(tmp_path, name, ".log")
        assert path.parent == tmp_path
        assert "/" not in path.name
        assert "\x00" not in path.name
        assert path.name not in {".log", "..log"} or path.name == "..log"

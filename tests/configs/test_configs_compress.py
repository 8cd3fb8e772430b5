"""Stored texts: exact round trips, reverse deltas, checkpoints, corruption, bytes."""

from __future__ import annotations

import zlib

import pytest
from configs_samples import realistic_config, sample

from netfleet.configs.compress import (
    CHECKPOINT_EVERY,
    KEPT_LEVEL,
    LATEST_LEVEL,
    is_full,
    pack_delta,
    pack_full,
    reconstruct,
    roll,
    unpack,
)
from netfleet.core.errors import ConfigHistoryError


def change_line(text: str, n: int) -> str:
    lines = text.split("\n")
    index = [i for i, line in enumerate(lines) if line.startswith(" description ")][n]
    lines[index] = f" description changed {n}"
    return "\n".join(lines)


@pytest.mark.parametrize(
    "text", ["", "\n", "a", "a\n", "a\r\nb\r\n", "ünïcødé\n\n\n", sample("ios_a"), sample("asa_a")]
)
def test_round_trips_are_exact(text: str) -> None:
    assert unpack(pack_full(text)) == text
    base = sample("ios_a")
    assert unpack(pack_delta(text, base), base) == text
    assert unpack(pack_delta(base, text), text) == base


def test_a_one_line_change_is_stored_in_under_2_kb() -> None:
    text = realistic_config()
    assert 48_000 <= len(text.encode()) <= 52_000
    changed = change_line(text, 100)
    full = pack_full(text)
    delta = pack_delta(text, changed)
    assert len(zlib.compress(text.encode(), LATEST_LEVEL)) + 1 == len(full)
    kept = pack_full(text, KEPT_LEVEL)
    assert len(kept) < len(full)  # older full versions are recompressed harder
    assert unpack(kept) == unpack(full) == text
    assert len(full) > 2_000  # why full texts alone do not meet the aim
    assert len(delta) <= 2_000
    assert unpack(delta, changed) == text


def test_a_chain_of_reverse_deltas_rebuilds_every_version() -> None:
    versions = [realistic_config(target=8_000)]
    for n in range(1, 2 * CHECKPOINT_EVERY + 5):
        versions.append(change_line(versions[-1], n % 20))
    stored: list[bytes] = []
    run = 0
    for i, text in enumerate(versions):
        rolled = roll(text, versions[i - 1] if i else None, run=run)
        assert is_full(rolled.latest)
        if rolled.previous is not None:
            stored[-1] = rolled.previous
            run = 0 if is_full(rolled.previous) else run + 1
        stored.append(rolled.latest)
    fulls = [i for i, blob in enumerate(stored) if is_full(blob)]
    assert fulls[-1] == len(stored) - 1
    assert len(fulls) == 3
    assert all(b - a <= CHECKPOINT_EVERY for a, b in zip([-1, *fulls], fulls, strict=False))
    for v in range(len(versions)):
        start = min(i for i in fulls if i >= v)
        assert reconstruct(stored[start : v - 1 if v else None : -1]) == versions[v]


def test_a_rewritten_config_stays_full() -> None:
    old = realistic_config(target=6_000, seed=1)
    new = old.upper()
    previous = roll(new, old).previous
    assert previous is not None
    assert is_full(previous)
    assert previous == pack_full(old, KEPT_LEVEL)
    assert roll(new, None).previous is None


def test_wrong_base_and_corruption_are_clear_errors() -> None:
    a, b = sample("ios_a"), sample("nxos_a")
    delta = pack_delta(a, b)
    with pytest.raises(ConfigHistoryError, match="does not match"):
        unpack(delta, a + "x")
    with pytest.raises(ConfigHistoryError, match="needs the text"):
        unpack(delta)
    with pytest.raises(ConfigHistoryError, match="corrupt"):
        unpack(pack_full(a)[:-5])
    with pytest.raises(ConfigHistoryError, match="format byte"):
        unpack(b"Xabc")
    bad_script = b"D" + delta[1:5] + zlib.compress(b"=abc")
    with pytest.raises(ConfigHistoryError, match="bad delta script"):
        unpack(bad_script, b)
    with pytest.raises(ConfigHistoryError, match="start with a full"):
        reconstruct([delta])
    with pytest.raises(ConfigHistoryError, match="no stored versions"):
        reconstruct([])

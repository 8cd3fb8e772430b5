"""Config pages: the diff layouts (side by side, unified) and the pages without backups."""

from __future__ import annotations

import pytest

from netfleet.configs.diff import unified_diff
from netfleet.store import SqlStore
from netfleet.web.configs_source import Row, side_by_side, unified_rows
from tests.support.store import add_devices
from tests.support.web import MakeClient

OLD = "hostname r1\ninterface Gi0/1\n description access\n shutdown\nntp server 192.0.2.1\nend\n"
NEW = (
    "hostname r1\ninterface Gi0/1\n description uplink\n shutdown\nntp server 192.0.2.9\n"
    "logging host 192.0.2.5\nend\n"
)


def test_side_by_side_pairs_changed_lines_with_their_numbers() -> None:
    diff = unified_diff(OLD, NEW, old_name="r1@1", new_name="r1@2", context=1)
    rows, cut = side_by_side(diff.text)
    assert not cut
    assert rows[0].kind == "hunk"
    changed = [r for r in rows if r.kind != "same" and r.kind != "hunk"]
    assert changed[0] == Row("change", 3, " description access", 3, " description uplink")
    assert Row("change", 5, "ntp server 192.0.2.1", 5, "ntp server 192.0.2.9") in changed
    assert Row("add", None, None, 6, "logging host 192.0.2.5") in changed
    same = [r for r in rows if r.kind == "same"]
    assert all(r.old == r.new for r in same)
    assert sum(1 for r in changed if r.new is not None) == diff.added
    assert sum(1 for r in changed if r.old is not None) == diff.removed


def test_unified_rows_mark_each_line_and_cut_long_diffs() -> None:
    diff = unified_diff(OLD, NEW)
    kinds = [k for k, _ in unified_rows(diff.text)[0]]
    assert kinds[:3] == ["head", "head", "hunk"]
    assert kinds.count("add") == diff.added
    assert kinds.count("del") == diff.removed
    rows, cut = side_by_side(diff.text, max_lines=4)
    assert cut
    assert len(rows) <= 4


async def test_pages_say_when_the_server_keeps_no_backups(
    browser: MakeClient, store: SqlStore
) -> None:
    await add_devices(store, 1)
    if getattr(store, "configs", None) is not None:
        pytest.skip("this store keeps backups: test_web_configs_pages covers the pages")
    viewer = await browser("viewer")
    home = await viewer.get("/ui/configs")
    assert home.status_code == 200
    assert "does not keep configuration backups" in home.text
    device = await viewer.get("/ui/devices/edge-000")
    assert "does not keep configuration backups" in device.text
    for path in ("/ui/configs/history?device=edge-000", "/ui/configs/diff?device=edge-000"):
        r = await viewer.get(path)
        assert r.status_code == 404
        assert "does not keep configuration backups" in r.text

"""Config pages (versions, texts, diffs side by side and unified, search, backup status)
and notification pages (targets without secrets)."""

from __future__ import annotations

import re

import pytest

from netfleet.configs.diff import unified_diff
from netfleet.configs.sanity import prepare_config
from netfleet.store import SqlStore
from netfleet.web.configs_source import Row, side_by_side, unified_rows
from netfleet.web.routes_notifications import target_summary
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


def _running(n: int, description: str = "access") -> str:
    body = "\n".join(f"interface Gi0/{i}\n description {description} {i}\n!" for i in range(20))
    return (
        "Building configuration...\n\nCurrent configuration : 999 bytes\n!\n"
        f"! Last configuration change at 10:0{n}:00 UTC Wed Dec 2 2026 by admin\n!\n"
        f"hostname edge-000\n!\nsnmp-server location rack-{n}\n{body}\nend\n"
    )


async def _backup(store: SqlStore, text: str, device: str = "edge-000") -> None:
    prepared = prepare_config(text, "cisco_ios", device=device)
    await store.configs.record(device, prepared, platform="cisco_ios")


async def test_history_versions_text_and_diffs(browser: MakeClient, store: SqlStore) -> None:
    await add_devices(store, 2)
    await _backup(store, _running(1))
    await _backup(store, _running(1).replace("10:01:00", "11:11:11"))  # volatile only
    await _backup(store, _running(2, "uplink"))
    await _backup(store, _running(3, "uplink") + "\n")
    await store.configs.record_failure("edge-001", "timed out waiting for the prompt")
    viewer = await browser("viewer")
    device = (await viewer.get("/ui/devices/edge-000")).text
    assert device.count('href="/ui/configs/version?device=edge-000&amp;v=') == 3
    assert "/ui/configs/diff?device=edge-000&amp;to=3" in device
    history = (await viewer.get("/ui/configs/history?device=edge-000")).text
    assert re.findall(r">v(\d+)</a>", history) == ["3", "2", "1"]
    assert "+21" in history  # v2: 20 descriptions and the location changed
    text = (await viewer.get("/ui/configs/version?device=edge-000&v=1")).text
    assert 'id="L13"' in text
    assert "snmp-server location rack-1" in text
    side = await viewer.get("/ui/configs/diff?device=edge-000&from=1&to=2&view=side")
    assert side.status_code == 200
    assert re.search(r'class="del"><code>snmp-server location rack-1</code>', side.text)
    assert re.search(r'class="add"><code>snmp-server location rack-2</code>', side.text)
    assert 'id="diff-added">+21<' in side.text
    unified = (await viewer.get("/ui/configs/diff?device=edge-000&view=unified")).text
    assert '<span class="del">-snmp-server location rack-2</span>' in unified
    assert '<span class="add">+snmp-server location rack-3</span>' in unified
    assert "Last configuration change" not in unified  # volatile lines never show
    await _backup(store, _running(1), device="edge-001")
    first = (await viewer.get("/ui/configs/diff?device=edge-001")).text
    assert "v1 is the oldest version stored: there is nothing before it" in first
    same = (await viewer.get("/ui/configs/diff?device=edge-000&from=3&to=3")).text
    assert "No difference" in same
    missing = await viewer.get("/ui/configs/diff?device=edge-000&from=9")
    assert missing.status_code == 404
    bad = await viewer.get("/ui/configs/version?device=edge-000&v=two")
    assert bad.status_code == 400
    unknown = await viewer.get("/ui/configs/history?device=ghost")
    assert unknown.status_code == 404


async def test_search_and_backup_status(browser: MakeClient, store: SqlStore) -> None:
    await add_devices(store, 3)
    await _backup(store, _running(1))
    await _backup(store, _running(2), device="edge-002")
    await store.configs.record_failure("edge-002", "the output is not a configuration")
    viewer = await browser("viewer")
    home = (await viewer.get("/ui/configs?q=location+rack")).text
    assert 'id="hit-count">2 lines<' in home
    assert "/ui/configs/version?device=edge-000&amp;v=1#L" in home
    regex = (await viewer.get("/ui/configs?q=rack-%5B2-9%5D&regex=1")).text
    assert 'id="hit-count">1 line<' in regex
    broken = (await viewer.get("/ui/configs?q=%28&regex=1")).text
    assert 'role="alert"' in broken
    assert 'id="count-failed">1<' in home
    assert "the output is not a configuration" in home
    assert re.search(r"edge-001</a></td>\s*<td><span class=\"badge st-queued\">never", home)


def test_notification_targets_never_show_secrets() -> None:
    slack = {"url": "https://hooks.slack.example/services/T000/B000/XXXXSECRET"}
    assert target_summary(slack) == [("url", "https://hooks.slack.example/…")]
    email = {"to": ["noc@example.net"], "host": "127.0.0.1", "port": 25, "password": "pw"}
    assert target_summary(email) == [
        ("host", "127.0.0.1"),
        ("port", "25"),
        ("to", "noc@example.net"),
    ]


async def test_notification_pages_without_the_rules_store(
    browser: MakeClient, store: SqlStore
) -> None:
    if getattr(store, "notifications", None) is not None:
        pytest.skip("the store has notification rules: see the integration pages tests")
    viewer = await browser("viewer")
    r = await viewer.get("/ui/notifications")
    assert r.status_code == 404
    assert "no notification rules" in r.text

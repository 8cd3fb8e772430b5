"""The notification delivery loop against a real HTTP receiver on loopback: signed
deliveries, retries after 500 and while the receiver is down, the delivery log, and
no duplicate effects when the delivering worker is killed (SIGKILL) mid-delivery."""

from __future__ import annotations

import asyncio
import email
import email.policy
import socket
from collections.abc import Awaitable, Callable
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from netfleet.core.settings_integrations import NotificationRuleSettings, NotificationSettings
from netfleet.integrations.notify_rules import rule_parts
from netfleet.store import SqlStore
from netfleet.store.records_integrations import NewRule
from netfleet.worker.notify_loop import NotificationLoop, retry_delay
from tests.support.receivers import Receiver, webhook_receiver
from tests.support.worker import Fleet, eventually, open_test_store

SECRET = "whsec-loop-9c2f1e7a"
FAST = NotificationSettings(backoff_seconds=0.05, max_backoff_seconds=0.2, poll_seconds=0.05)


@pytest.fixture
def store(empty_store: SqlStore) -> SqlStore:
    """These loops need no fleet: the directory's SQLite store without devices."""
    return empty_store


async def _rule(store: SqlStore, url: str, **fields: object) -> int:
    spec = NotificationRuleSettings.model_validate(
        {"name": "ops", "kind": "webhook", "url": url, "secret": SECRET,
         "events": ["job.failed", "task.failed"], **fields}
    )  # fmt: skip
    parts = rule_parts(spec)
    record = await store.notifications.create(
        NewRule(spec.name, "webhook", parts.match, parts.target, parts.secret)
    )
    return record.id


async def _run_until(loop: NotificationLoop, check: object, what: str) -> None:
    stop = asyncio.Event()
    task = asyncio.create_task(loop.run(stop))
    try:
        await eventually(check, timeout=60, what=what)  # type: ignore[arg-type]
    finally:
        stop.set()
        await task


def _effects(receiver: Receiver) -> int:
    with receiver.lock:
        return len(receiver.effects)


async def test_signed_delivery_retried_after_500_and_logged(store: SqlStore) -> None:
    with webhook_receiver(SECRET) as rx:
        rx.answers = [500, 503]
        rule_id = await _rule(store, rx.url, groups=["core"])
        await store.notifications.emit("job.finished", {"status": "failed", "groups": ["core"]})
        await store.notifications.emit("job.finished", {"status": "failed", "groups": ["edge"]})
        await store.notifications.emit("job.finished", {"status": "succeeded"})
        loop = NotificationLoop(store, FAST, owner="n1")

        async def delivered() -> bool:
            return _effects(rx) == 1

        await _run_until(loop, delivered, "one delivery")
        assert rx.verified == [True]
        (body,) = rx.effects.values()
        assert body["status"] == "failed"
        assert body["groups"] == ["core"]
        assert body["rule"] == "ops"
        keys = {h["X-Netfleet-Delivery"] for h, _ in rx.received}
        assert len(rx.received) == 3
        assert len(keys) == 1
    log = await store.notifications.log(rule_id)
    assert [(a.attempt, a.outcome, a.status) for a in reversed(log)] == [
        (1, "retryable", 500), (2, "retryable", 503), (3, "delivered", 200)
    ]  # fmt: skip
    (delivery,) = await store.notifications.deliveries()
    assert delivery.state == "delivered"


async def test_receiver_down_then_up(store: SqlStore) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    await _rule(store, f"http://127.0.0.1:{port}/hook")
    await store.notifications.emit("task.failed", {"device": "r1", "error_kind": "timeout"})
    loop = NotificationLoop(store, FAST, owner="n1")

    async def refused_twice() -> bool:
        log = await store.notifications.log(1)
        return len(log) >= 2 and all(a.outcome == "retryable" for a in log)

    await _run_until(loop, refused_twice, "two refused attempts")
    (first, *_) = await store.notifications.log(1)
    assert "cannot reach" in first.reason
    with webhook_receiver(SECRET, port=port) as rx:

        async def delivered() -> bool:
            return _effects(rx) == 1

        await _run_until(loop, delivered, "the delivery once the receiver is up")
        assert rx.verified == [True]


async def test_permanent_failure_and_attempt_limit(store: SqlStore) -> None:
    with webhook_receiver(SECRET) as rx:
        rx.answers = [404]
        await _rule(store, rx.url)
        await store.notifications.emit("job.finished", {"status": "failed"})
        settings = FAST.model_copy(update={"max_attempts": 2})
        loop = NotificationLoop(store, settings, owner="n1")

        async def failed() -> bool:
            return [d.state for d in await store.notifications.deliveries()] == ["failed"]

        await _run_until(loop, failed, "a permanent failure")
        rx.answers = [500, 500]
        await store.notifications.emit("job.finished", {"status": "failed"})

        async def both_failed() -> bool:
            return [d.state for d in await store.notifications.deliveries()] == ["failed"] * 2

        await _run_until(loop, both_failed, "giving up after max_attempts")
    newest, oldest = await store.notifications.deliveries()
    assert oldest.attempts == 1
    assert "HTTP 404" in (oldest.last_error or "")
    assert newest.attempts == 2
    assert "gave up after 2 attempts" in (newest.last_error or "")


def test_backoff_doubles_is_capped_and_honours_retry_after() -> None:
    s = NotificationSettings(backoff_seconds=1, max_backoff_seconds=30)
    assert 0.8 <= retry_delay(s, 1, None) <= 1.2
    assert 6.4 <= retry_delay(s, 4, None) <= 9.6
    assert 24 <= retry_delay(s, 20, None) <= 30  # capped, jitter below the cap
    assert retry_delay(s, 1, 7.0) == 7.0


@pytest.mark.slow
async def test_no_duplicate_effects_across_a_worker_sigkill(
    tmp_path: Path, fleet_factory: list[Fleet]
) -> None:
    url = f"sqlite:///{tmp_path / 'netfleet.db'}"
    store = await open_test_store(url)
    env = {
        "NETFLEET_NOTIFICATIONS__LEASE_SECONDS": "2",
        "NETFLEET_NOTIFICATIONS__POLL_SECONDS": "0.1",
        "NETFLEET_NOTIFICATIONS__BACKOFF_SECONDS": "0.1",
    }
    try:
        with webhook_receiver(SECRET) as rx:
            rx.hold_first = 1  # acts on the first delivery, then never answers it
            await _rule(store, rx.url)
            for i in range(5):
                await store.notifications.emit("job.finished", {"status": "failed", "n": i})
            fleet = Fleet(url, tmp_path, env)
            fleet_factory.append(fleet)
            first = fleet.start("first")

            def held() -> bool:
                with rx.lock:
                    return bool(rx.received) and rx.hold_first == 0

            await eventually(_async(held), timeout=60, what="the first delivery in flight")
            first.kill()  # SIGKILL while the receiver holds the request
            rx.release.set()
            fleet.start("second")

            async def all_delivered() -> bool:
                states = [d.state for d in await store.notifications.deliveries()]
                return states == ["delivered"] * 5

            await eventually(all_delivered, timeout=90, what="every delivery, after the kill")
            with rx.lock:
                keys = [h["X-Netfleet-Delivery"] for h, _ in rx.received]
                assert len(rx.effects) == 5  # one effect per delivery
                assert len(keys) > len(set(keys))  # the in-flight one was sent again
                assert sorted(b["n"] for b in rx.effects.values()) == list(range(5))
    finally:
        await store.close()


def _async(check: Callable[[], bool]) -> Callable[[], Awaitable[bool]]:
    async def run() -> bool:
        return check()

    return run


@pytest.mark.slow
async def test_worker_applies_secret_settings_and_never_logs_the_secret(
    tmp_path: Path, fleet_factory: list[Fleet]
) -> None:
    """``netfleet worker`` calls configure_secrets: with ``secrets.cache_seconds = 0`` an
    ``exec:`` helper runs for every delivery (the default would cache it)."""
    calls = tmp_path / "calls"
    helper = tmp_path / "hook-key"
    helper.write_text(f"#!/bin/sh\necho x >> {calls}\necho {SECRET}\n")
    helper.chmod(0o700)
    url = f"sqlite:///{tmp_path / 'netfleet.db'}"
    store = await open_test_store(url)
    try:
        with webhook_receiver(SECRET) as rx:
            spec = NotificationRuleSettings(
                name="ops", kind="webhook", url=rx.url, secret=f"exec:{helper}",
                events=["job.failed"],
            )  # fmt: skip
            parts = rule_parts(spec)
            await store.notifications.create(
                NewRule("ops", "webhook", parts.match, parts.target, parts.secret)
            )
            env = {"NETFLEET_SECRETS__CACHE_SECONDS": "0"}
            fleet = Fleet(url, tmp_path, {**env, "NETFLEET_NOTIFICATIONS__POLL_SECONDS": "0.1"})
            fleet_factory.append(fleet)
            worker = fleet.start("w")
            for n in range(3):
                await store.notifications.emit("job.finished", {"status": "failed", "n": n})

                async def delivered(n: int = n) -> bool:
                    return _effects(rx) == n + 1

                await eventually(delivered, timeout=60, what=f"delivery {n}")
            assert rx.verified == [True] * 3
            await worker.terminate()
        assert calls.read_text().count("x") == 3
        assert SECRET not in worker.log()
    finally:
        await store.close()


class _Mailbox:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(msg, EmailMessage)
        self.messages.append(msg)
        return "250 OK"


async def test_config_change_by_email_through_the_queue(store: SqlStore) -> None:
    """A real SMTP server (aiosmtpd) started by the test; plain text, HTML and the diff."""
    mailbox = _Mailbox()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        spec = NotificationRuleSettings.model_validate(
            {"name": "mail", "kind": "email", "events": ["config.changed"], "devices": ["core-*"],
             "smtp": {"host": "127.0.0.1", "port": port, "security": "none",
                      "sender": "netfleet@example.net", "recipients": ["noc@example.net"]}}
        )  # fmt: skip
        parts = rule_parts(spec)
        await store.notifications.create(
            NewRule("mail", "email", parts.match, parts.target, parts.secret)
        )
        diff = "--- old\n+++ new\n-ntp server 192.0.2.1\n+ntp server 192.0.2.2\n"
        await store.notifications.emit(
            "config.changed", {"device": "core-1", "diff": diff, "message": "1 line changed"}
        )
        await store.notifications.emit("config.changed", {"device": "edge-1", "diff": diff})
        loop = NotificationLoop(store, FAST, owner="n1")

        async def sent() -> bool:
            return [d.state for d in await store.notifications.deliveries()] == ["delivered"]

        await _run_until(loop, sent, "the email")
    finally:
        controller.stop()
    (msg,) = mailbox.messages
    assert msg["Subject"] == "netfleet: configuration of core-1 changed"
    assert msg["To"] == "noc@example.net"
    body = msg.get_body(("plain",))
    html = msg.get_body(("html",))
    assert body is not None
    assert html is not None
    assert "1 line changed" in body.get_content()
    assert "<pre>" in html.get_content()
    (attachment,) = list(msg.iter_attachments())
    assert attachment.get_filename() == "core-1.diff"
    payload = attachment.get_payload(decode=True)
    assert isinstance(payload, bytes)
    assert payload.decode() == diff


async def test_rules_from_the_settings(store: SqlStore) -> None:
    settings = NotificationSettings.model_validate(
        {"rules": [{"name": "toml", "kind": "slack", "url": "https://hooks.example.net/T/B/x",
                    "events": ["worker.down"]}]}
    )  # fmt: skip
    loop = NotificationLoop(store, settings, owner="n1")
    await loop.apply_settings()
    (rule,) = await store.notifications.list()
    assert (rule.name, rule.origin, rule.has_secret) == ("toml", "settings", True)
    await NotificationLoop(store, NotificationSettings(), owner="n1").apply_settings()
    assert await store.notifications.list() == []  # removed from the settings: gone
    await store.notifications.create(
        NewRule("toml", "webhook", {"events": ["job.failed"]}, {"url": "http://x/"}, "k")
    )
    await loop.apply_settings()  # a clash is logged, the API's rule is kept
    (kept,) = await store.notifications.list()
    assert kept.origin == "api"


async def test_backup_stale_is_delivered_once_per_episode(store: SqlStore) -> None:
    from netfleet.configs.sanity import prepare_config
    from tests.support.store import add_devices

    await add_devices(store, "r1", groups=("core",))
    text = "hostname r1\n!\nsnmp-server location rack-1\nend\n"
    prepared = prepare_config(text, "cisco_ios", device="r1")
    await store.configs.record("r1", prepared, platform="cisco_ios")
    with webhook_receiver(SECRET) as rx:
        await _rule(store, rx.url, events=["backup.stale"])
        loop = NotificationLoop(store, FAST, owner="n1", backup_stale_s=0.0)

        async def delivered() -> bool:
            return _effects(rx) == 1

        await _run_until(loop, delivered, "the backup.stale delivery")
        # another process starting up checks at once, and raises no second event
        await NotificationLoop(store, FAST, owner="n2", backup_stale_s=0.0)._maintain()
        assert (await store.notifications.backlog())["events_pending"] == 0
        (body,) = rx.effects.values()
        assert body["type"] == "backup.stale"
        assert body["device"] == "r1"
        assert rx.verified == [True]

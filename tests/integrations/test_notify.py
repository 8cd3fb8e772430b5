"""Notification rules, and webhook/Slack deliveries to a real HTTP receiver on loopback."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from pydantic import ValidationError

from netfleet.integrations.notify import Rule
from netfleet.integrations.notify_webhook import (
    DELIVERY_HEADER,
    send_slack,
    send_webhook,
    verify_signature,
)

SECRET = "whsec-test-0123456789"


@dataclass
class Receiver:
    url: str = ""
    answers: list[int] = field(default_factory=list)
    """Statuses to answer, in order; 200 once they run out."""
    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    verified: list[bool] = field(default_factory=list)
    seen_ids: set[str] = field(default_factory=set)
    effects: int = 0
    """Deliveries acted upon (duplicates by idempotency id are not)."""


@contextmanager
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            headers = dict(self.headers.items())
            state.received.append((headers, body))
            code = state.answers.pop(0) if state.answers else 200
            if code == 200:
                state.verified.append(verify_signature(SECRET, headers, body))
                delivery = headers.get(DELIVERY_HEADER, "")
                if delivery not in state.seen_ids:
                    state.seen_ids.add(delivery)
                    state.effects += 1
            self.send_response(code)
            if code == 429:
                self.send_header("Retry-After", "7")
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


EVENT = {"type": "job.finished", "status": "failed", "job_name": "backup", "job_id": "j1"}


def test_rule_matching() -> None:
    failed = Rule(name="r", events=["job.failed", "job.partial"])
    assert failed.matches(EVENT)
    assert not failed.matches({**EVENT, "status": "succeeded"})
    kinds = Rule(name="k", events=["task.failed"], task_error_kinds=["authentication_failed"])
    task = {"type": "task.failed", "device": "r1", "error_kind": "authentication_failed"}
    assert kinds.matches(task)
    assert not kinds.matches({**task, "error_kind": "command_timeout"})
    scoped = Rule(
        name="s", events=["config.changed"], devices=["core-*"], groups=["dc1"], job_names=["b*"]
    )
    change = {
        "type": "config.changed",
        "device": "core-1",
        "groups": ["dc1", "x"],
        "job_name": "bk",
    }
    assert scoped.matches(change)
    assert not scoped.matches({**change, "device": "edge-1"})
    assert not scoped.matches({**change, "groups": ["dc2"]})
    assert not scoped.matches({k: v for k, v in change.items() if k != "job_name"})
    sched = Rule(name="c", events=["backup.stale", "worker.down"], schedules=["nightly"])
    assert sched.matches({"type": "backup.stale", "schedule": "nightly"})
    assert not sched.matches({"type": "worker.down"})
    with pytest.raises(ValidationError, match="unknown events"):
        Rule(name="bad", events=["job.exploded"])


async def test_signed_webhook_retried_after_500_has_one_effect() -> None:
    with receiver() as rx:
        rx.answers = [500]
        first = await send_webhook(rx.url, EVENT, secret=SECRET, delivery_id="d-1")
        assert (first.outcome, first.status) == ("retryable", 500)
        second = await send_webhook(rx.url, EVENT, secret=SECRET, delivery_id="d-1")
        assert second.delivered
        again = await send_webhook(rx.url, EVENT, secret=SECRET, delivery_id="d-1")
        assert again.delivered
    assert rx.verified == [True, True]
    assert rx.effects == 1  # the receiver dropped the duplicate by its idempotency id
    headers, body = rx.received[1]
    assert json.loads(body) == EVENT
    assert headers["X-Netfleet-Event"] == "job.finished"
    assert headers["Idempotency-Key"] == "d-1"
    assert not verify_signature("another-secret", headers, body)
    assert not verify_signature(SECRET, headers, body + b" ")
    stale = float(headers["X-Netfleet-Timestamp"]) + 3600
    assert not verify_signature(SECRET, headers, body, now=stale)


async def test_retryable_and_permanent_failures() -> None:
    with receiver() as rx:
        rx.answers = [429, 400, 410]
        limited = await send_webhook(rx.url, EVENT, secret=SECRET, delivery_id="d-2")
        assert (limited.outcome, limited.retry_after) == ("retryable", 7.0)
        bad = await send_webhook(rx.url, EVENT, secret=SECRET, delivery_id="d-2")
        assert (bad.outcome, bad.status) == ("permanent", 400)
        gone = await send_slack(rx.url, EVENT)
        assert gone.outcome == "permanent"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        down = f"http://127.0.0.1:{s.getsockname()[1]}/hook"
    result = await send_webhook(down, EVENT, secret=SECRET, delivery_id="d-3")
    assert result.outcome == "retryable"
    assert "cannot reach" in result.reason
    assert (await send_webhook("ftp://x", EVENT, secret=SECRET, delivery_id="d")).outcome == (
        "permanent"
    )


async def test_slack_message_is_formatted() -> None:
    event = {
        "type": "config.changed",
        "device": "core-1",
        "groups": ["dc1"],
        "diff": "-ntp server 1.1.1.1\n+ntp server 2.2.2.2",
        "job_name": "backup",
    }
    with receiver() as rx:
        result = await send_slack(rx.url, event)
        assert result.delivered
    payload = json.loads(rx.received[0][1])
    assert payload["text"] == "netfleet: configuration of core-1 changed"
    assert payload["blocks"][0]["type"] == "header"
    fields = payload["blocks"][1]["fields"]
    assert {"type": "mrkdwn", "text": "*device*\ncore-1"} in fields
    assert "+ntp server 2.2.2.2" in payload["blocks"][-1]["text"]["text"]

"""A real HTTP webhook receiver on loopback, started by the test.

It verifies each request's HMAC signature, answers the statuses queued in
``answers`` (then 200), and counts *effects*: deliveries acted upon once per
idempotency id (``X-Netfleet-Delivery``), as a careful receiver would.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from netfleet.integrations.notify_webhook import DELIVERY_HEADER, verify_signature


@dataclass
class Receiver:
    secret: str
    url: str = ""
    answers: list[int] = field(default_factory=list)
    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    verified: list[bool] = field(default_factory=list)
    effects: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Acted-upon deliveries by idempotency id (the JSON body)."""
    hold_first: int = 0
    """Act on this many requests, then keep them unanswered until ``release`` is set."""
    release: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    changed: threading.Condition = field(init=False)

    def __post_init__(self) -> None:
        self.changed = threading.Condition(self.lock)

    def bodies(self) -> list[dict[str, Any]]:
        with self.lock:
            return [json.loads(b) for _, b in self.received]


@contextmanager
def webhook_receiver(secret: str, *, port: int = 0) -> Iterator[Receiver]:
    """Serve on 127.0.0.1 (``port`` 0: any free one) until the block ends."""
    state = Receiver(secret)

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            headers = dict(self.headers.items())
            with state.lock:
                state.received.append((headers, body))
                code = state.answers.pop(0) if state.answers else 200
                if code == 200:
                    state.verified.append(verify_signature(state.secret, headers, body))
                    key = headers.get(DELIVERY_HEADER) or json.loads(body).get("delivery_id", "")
                    state.effects.setdefault(key, json.loads(body))
                hold = state.hold_first > 0
                state.hold_first -= hold
                state.changed.notify_all()
            if hold:
                state.release.wait(60)
            self.send_response(code)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        state.release.set()
        server.shutdown()
        server.server_close()
        thread.join()

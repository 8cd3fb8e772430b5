"""Webhook and Slack-compatible deliveries over httpx.

Webhook request: ``POST`` of the event as JSON (``Content-Type: application/json``)
with these headers:

* ``X-Netfleet-Event``: the event type, e.g. ``job.finished``;
* ``X-Netfleet-Delivery``: the idempotency id, the same on every retry of one
  delivery (also sent as ``Idempotency-Key``): receivers drop ids they have seen;
* ``X-Netfleet-Timestamp``: Unix seconds when this attempt was signed;
* ``X-Netfleet-Signature``: ``v1=`` + hex HMAC-SHA256, keyed with the rule's secret,
  of ``"{timestamp}.{raw body}"``.

A receiver verifies (``verify_signature`` does this): recompute the HMAC over the
timestamp header, a ``.`` and the raw body bytes as received; compare it with the
``v1=`` value in constant time; reject timestamps more than 5 minutes from its clock
(replays). Redirects are not followed. 2xx is delivered; 408, 425, 429, 5xx,
timeouts and connection failures are retryable (``Retry-After`` is honoured);
other statuses are permanent.
"""

from __future__ import annotations

import hashlib
import hmac
import importlib.util
import sys
import time
from collections.abc import Mapping
from typing import Any

import httpx

from netfleet.integrations.notify import (
    DeliveryResult,
    event_json,
    event_lines,
    event_title,
)


def _remember_missing_sniffio() -> None:
    """httpcore tries ``import sniffio`` on every request; when it is not installed,
    each failing import searches ``sys.path`` again (a fifth of a delivery's CPU). A
    ``None`` entry in ``sys.modules`` makes that import fail at once, as it would."""
    if "sniffio" not in sys.modules and importlib.util.find_spec("sniffio") is None:
        sys.modules["sniffio"] = None  # type: ignore[assignment]


_remember_missing_sniffio()

SIGNATURE_HEADER = "X-Netfleet-Signature"
TIMESTAMP_HEADER = "X-Netfleet-Timestamp"
DELIVERY_HEADER = "X-Netfleet-Delivery"
EVENT_HEADER = "X-Netfleet-Event"
_RETRYABLE = frozenset({408, 425, 429})


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The ``X-Netfleet-Signature`` value for ``body`` sent at ``timestamp``."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "v1=" + mac.hexdigest()


def verify_signature(
    secret: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    tolerance_seconds: float = 300.0,
    now: float | None = None,
) -> bool:
    """Receiver side: True when the signature matches and the timestamp is fresh."""
    lowered = {k.lower(): v for k, v in headers.items()}
    stamp = lowered.get(TIMESTAMP_HEADER.lower(), "")
    given = lowered.get(SIGNATURE_HEADER.lower(), "")
    if not stamp.isdigit():
        return False
    if abs((time.time() if now is None else now) - int(stamp)) > tolerance_seconds:
        return False
    return hmac.compare_digest(sign(secret, int(stamp), body), given)


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After", "")
    return float(value) if value.strip().isdigit() else None


def classify(response: httpx.Response) -> DeliveryResult:
    """A delivery result from an HTTP answer."""
    code = response.status_code
    if 200 <= code < 300:
        return DeliveryResult("delivered", f"HTTP {code}", code)
    if code in _RETRYABLE or code >= 500:
        return DeliveryResult("retryable", f"HTTP {code}", code, _retry_after(response))
    detail = response.text[:200].strip() if code < 300 or code >= 400 else ""
    reason = f"HTTP {code}" + (f": {detail}" if detail else "")
    return DeliveryResult("permanent", reason, code)


async def post_json(
    url: str,
    body: bytes,
    headers: dict[str, str],
    *,
    timeout: float = 10.0,
    client: httpx.AsyncClient | None = None,
) -> DeliveryResult:
    """POST ``body`` and classify the outcome; no exception escapes."""
    if not url.startswith(("http://", "https://")):
        return DeliveryResult("permanent", "the URL is not http(s)")
    own = client is None
    http = client or httpx.AsyncClient(timeout=timeout, follow_redirects=False)
    try:
        response = await http.post(
            url, content=body, headers={"Content-Type": "application/json", **headers}
        )
        return classify(response)
    except httpx.TimeoutException:
        return DeliveryResult("retryable", "timed out")
    except httpx.TransportError as exc:
        return DeliveryResult("retryable", f"cannot reach the receiver ({type(exc).__name__})")
    except httpx.HTTPError as exc:
        return DeliveryResult("permanent", f"bad request ({type(exc).__name__})")
    finally:
        if own:
            await http.aclose()


async def send_webhook(
    url: str,
    event: dict[str, Any],
    *,
    secret: str,
    delivery_id: str,
    timeout: float = 10.0,
    client: httpx.AsyncClient | None = None,
) -> DeliveryResult:
    """Deliver ``event`` to a webhook, signed with ``secret`` (see the module docstring)."""
    body = event_json(event)
    stamp = int(time.time())
    headers = {
        EVENT_HEADER: str(event.get("type", "")),
        DELIVERY_HEADER: delivery_id,
        "Idempotency-Key": delivery_id,
        TIMESTAMP_HEADER: str(stamp),
        SIGNATURE_HEADER: sign(secret, stamp, body),
    }
    return await post_json(url, body, headers, timeout=timeout, client=client)


def slack_message(event: dict[str, Any]) -> dict[str, Any]:
    """A Slack incoming-webhook payload: ``text`` (fallback) and Block Kit ``blocks``."""
    title = event_title(event)
    fields = [
        {"type": "mrkdwn", "text": f"*{label}*\n{value}"} for label, value in event_lines(event)
    ]
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": title[:150]}},
    ]
    if fields:
        blocks.append({"type": "section", "fields": fields[:10]})
    if event.get("message"):
        blocks.append(
            {"type": "section", "text": {"type": "mrkdwn", "text": str(event["message"])[:2900]}}
        )
    if event.get("diff"):
        diff = str(event["diff"])[:2800]
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": f"```{diff}```"}})
    return {"text": title, "blocks": blocks}


async def send_slack(
    url: str,
    event: dict[str, Any],
    *,
    timeout: float = 10.0,
    client: httpx.AsyncClient | None = None,
) -> DeliveryResult:
    """Deliver ``event`` to a Slack-compatible incoming webhook URL."""
    body = event_json(slack_message(event))
    return await post_json(url, body, {}, timeout=timeout, client=client)

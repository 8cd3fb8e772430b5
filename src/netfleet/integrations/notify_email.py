"""Email deliveries over SMTP: STARTTLS or implicit TLS, AUTH, plain-text and HTML bodies,
and the diff of a config change attached as ``<device>.diff``.

The standard library's ``smtplib`` runs in a worker thread (``asyncio.to_thread``):
it does STARTTLS, AUTH and ``send_message`` correctly, is bounded by a socket
timeout, and adds no runtime dependency for a delivery that is a few round trips
and never on a hot path. The password may be a secret reference (``env:``,
``file:``, ``exec:``). The delivery id becomes the ``Message-ID`` (and an
``X-Netfleet-Delivery`` header) so receivers can drop duplicates.

Reply codes 4xx, timeouts and connection failures are retryable; 5xx, refused
credentials and TLS verification failures are permanent.
"""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any

from pydantic import BaseModel, Field

from netfleet.core.errors import SecretUnavailable
from netfleet.core.secretref import SECRETS, SecretResolver
from netfleet.integrations.notify import (
    DeliveryResult,
    Outcome,
    event_title,
    render_html,
    render_text,
)


class SmtpConfig(BaseModel):
    """Where and how to send mail."""

    host: str
    port: int = Field(587, ge=1, le=65535)
    security: str = Field("starttls", pattern="^(starttls|tls|none)$")
    username: str | None = None
    password: str | None = Field(None, repr=False, description="Or a secret reference.")
    sender: str = Field(description="From: address.")
    recipients: list[str] = Field(min_length=1)
    timeout_seconds: float = Field(30.0, gt=0)
    ca_file: str | None = Field(None, description="Trust this CA bundle instead of the system's.")


def build_message(event: dict[str, Any], config: SmtpConfig, delivery_id: str) -> EmailMessage:
    """The message for ``event``: text and HTML alternatives, the diff attached if any."""
    msg = EmailMessage()
    msg["Subject"] = event_title(event)
    msg["From"] = config.sender
    msg["To"] = ", ".join(config.recipients)
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = f"<{delivery_id}@netfleet>"
    msg["X-Netfleet-Delivery"] = delivery_id
    msg["X-Netfleet-Event"] = str(event.get("type", ""))
    msg.set_content(render_text(event))
    msg.add_alternative(render_html(event), subtype="html")
    if event.get("diff"):
        name = f"{event.get('device') or 'config'}.diff"
        msg.add_attachment(
            str(event["diff"]).encode(), maintype="text", subtype="x-diff", filename=name
        )
    return msg


def _context(config: SmtpConfig) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=config.ca_file)


def _send(msg: EmailMessage, config: SmtpConfig, password: str | None) -> DeliveryResult:
    smtp: smtplib.SMTP
    if config.security == "tls":
        smtp = smtplib.SMTP_SSL(
            config.host, config.port, timeout=config.timeout_seconds, context=_context(config)
        )
    else:
        smtp = smtplib.SMTP(config.host, config.port, timeout=config.timeout_seconds)
    with smtp:
        smtp.ehlo()
        if config.security == "starttls":
            smtp.starttls(context=_context(config))
            smtp.ehlo()
        if config.username:
            smtp.login(config.username, password or "")
        refused = smtp.send_message(msg)
    if refused:
        codes = sorted({code for code, _ in refused.values()})
        outcome: Outcome = "retryable" if all(400 <= c < 500 for c in codes) else "permanent"
        return DeliveryResult(
            outcome, f"refused recipients: {', '.join(sorted(refused))}", codes[0]
        )
    return DeliveryResult("delivered", "accepted", 250)


def _classify(exc: Exception) -> DeliveryResult:
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return DeliveryResult("permanent", "the SMTP server refused the credentials", exc.smtp_code)
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = sorted({code for code, _ in exc.recipients.values()})
        outcome: Outcome = "retryable" if all(400 <= c < 500 for c in codes) else "permanent"
        return DeliveryResult(outcome, "every recipient was refused", codes[0] if codes else None)
    if isinstance(exc, smtplib.SMTPResponseException):
        code = exc.smtp_code
        reply = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else ""
        kind: Outcome = "retryable" if 400 <= code < 500 else "permanent"
        return DeliveryResult(kind, f"SMTP {code} {reply[:120]}".rstrip(), code)
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return DeliveryResult("permanent", f"the SMTP server does not support it: {exc}")
    if isinstance(exc, ssl.SSLCertVerificationError):
        return DeliveryResult("permanent", f"TLS verification failed: {exc.verify_message}")
    if isinstance(exc, TimeoutError):
        return DeliveryResult("retryable", "the SMTP server timed out")
    if isinstance(exc, (OSError, smtplib.SMTPException)):
        return DeliveryResult("retryable", f"cannot talk to the SMTP server ({type(exc).__name__})")
    return DeliveryResult("permanent", f"cannot send ({type(exc).__name__})")


async def send_email(
    event: dict[str, Any],
    config: SmtpConfig,
    *,
    delivery_id: str,
    resolver: SecretResolver | None = None,
) -> DeliveryResult:
    """Deliver ``event`` by mail; no exception escapes."""
    try:
        password = await (resolver or SECRETS).resolve(config.password, what="SMTP password")
    except SecretUnavailable as exc:
        return DeliveryResult("permanent", exc.message)
    msg = build_message(event, config, delivery_id)
    try:
        return await asyncio.to_thread(_send, msg, config, password)
    except Exception as exc:
        return _classify(exc)

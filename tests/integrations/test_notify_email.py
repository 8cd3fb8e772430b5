"""Email deliveries to a real SMTP server (aiosmtpd) on loopback: STARTTLS with a
self-signed certificate made here, AUTH, text and HTML bodies, the diff attachment."""

from __future__ import annotations

import datetime
import email
import email.policy
import ipaddress
import socket
import ssl
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from netfleet.core.secretref import SecretResolver
from netfleet.integrations.notify_email import SmtpConfig, send_email

PASSWORD = "smtp-pw-0123"


def _self_signed(tmp_path: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


class Handler:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(msg, EmailMessage)
        self.messages.append(msg)
        return "250 OK"


def _authenticator(
    server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
) -> AuthResult:
    ok = (
        isinstance(auth_data, LoginPassword)
        and auth_data.login == b"alerts"
        and (auth_data.password == PASSWORD.encode())
    )
    return AuthResult(success=ok, handled=False)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def smtp(tmp_path: Path) -> Iterator[tuple[Handler, int, Path]]:
    cert, key = _self_signed(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    handler = Handler()
    port = _free_port()
    controller = Controller(
        handler,
        hostname="127.0.0.1",
        port=port,
        tls_context=context,
        require_starttls=True,
        authenticator=_authenticator,
        auth_require_tls=True,
        auth_required=True,
    )
    controller.start()
    try:
        yield handler, port, cert
    finally:
        controller.stop()


def _config(port: int, cert: Path, **kwargs: Any) -> SmtpConfig:
    params: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": port,
        "security": "starttls",
        "username": "alerts",
        "password": "env:NF_SMTP_PW",
        "sender": "netfleet@example.net",
        "recipients": ["noc@example.net", "oncall@example.net"],
        "ca_file": str(cert),
        "timeout_seconds": 10,
    }
    params.update(kwargs)
    return SmtpConfig.model_validate(params)


EVENT = {
    "type": "config.changed",
    "device": "core-1",
    "groups": ["dc1"],
    "job_name": "backup-nightly",
    "diff": "--- old\n+++ new\n-ntp server 192.0.2.1\n+ntp server 192.0.2.2\n",
    "message": "1 line changed <b>",
}


async def test_email_with_starttls_auth_bodies_and_diff(
    smtp: tuple[Handler, int, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    handler, port, cert = smtp
    monkeypatch.setenv("NF_SMTP_PW", PASSWORD)
    result = await send_email(
        EVENT, _config(port, cert), delivery_id="del-42", resolver=SecretResolver()
    )
    assert result.delivered, result.reason
    assert handler.envelopes == [
        ("netfleet@example.net", ["noc@example.net", "oncall@example.net"])
    ]
    msg = handler.messages[0]
    assert msg["Subject"] == "netfleet: configuration of core-1 changed"
    assert msg["Message-ID"] == "<del-42@netfleet>"
    text = msg.get_body(("plain",))
    html = msg.get_body(("html",))
    assert text is not None
    assert html is not None
    assert "device: core-1" in text.get_content()
    assert "1 line changed &lt;b&gt;" in html.get_content()
    attachments = list(msg.iter_attachments())
    assert [a.get_filename() for a in attachments] == ["core-1.diff"]
    assert attachments[0].get_content_type() == "text/x-diff"
    assert "+ntp server 192.0.2.2" in attachments[0].get_payload(decode=True).decode()


async def test_email_failures_are_classified(
    smtp: tuple[Handler, int, Path], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    handler, port, cert = smtp
    monkeypatch.setenv("NF_SMTP_PW", "wrong-password")
    refused = await send_email(
        EVENT, _config(port, cert), delivery_id="d1", resolver=SecretResolver()
    )
    assert refused.outcome == "permanent", refused.reason
    assert "refused the credentials" in refused.reason
    assert "wrong-password" not in refused.reason
    # The server's self-signed certificate is not trusted with another CA file.
    (tmp_path / "other").mkdir()
    other_ca, _ = _self_signed(tmp_path / "other")
    untrusted = await send_email(
        EVENT,
        _config(port, cert, ca_file=str(other_ca)),
        delivery_id="d2",
        resolver=SecretResolver(),
    )
    assert untrusted.outcome == "permanent"
    assert "TLS verification failed" in untrusted.reason
    # Without STARTTLS the server refuses to go on (530): permanent.
    plain = await send_email(
        EVENT,
        _config(port, cert, security="none", username=None),
        delivery_id="d3",
        resolver=SecretResolver(),
    )
    assert plain.outcome == "permanent"
    assert plain.status == 530
    down = await send_email(
        EVENT, _config(_free_port(), cert), delivery_id="d5", resolver=SecretResolver()
    )
    assert down.outcome == "retryable", down.reason
    monkeypatch.delenv("NF_SMTP_PW")
    missing = await send_email(
        EVENT, _config(port, cert), delivery_id="d4", resolver=SecretResolver()
    )
    assert missing.outcome == "permanent"
    assert "NF_SMTP_PW" in missing.reason
    assert handler.messages == []

"""``/api/v1/notifications``: rules with write-only secrets, clear errors, test
deliveries to a real HTTP receiver on loopback, and the delivery log."""

from __future__ import annotations

import httpx

from tests.support.receivers import webhook_receiver

SECRET = "whsec-api-6d0b8e21c4"
SLACK = "https://hooks.slack.com/services/T000/B000/XXXXSLACKTOKEN?x=1"


async def test_rules_crud_never_return_secrets(client: httpx.AsyncClient) -> None:
    r = await client.post(
        "/api/v1/notifications",
        json={"name": "ops", "kind": "webhook", "url": "http://127.0.0.1:9/hook",
              "secret": SECRET, "events": ["job.failed", "task.failed"], "groups": ["core"],
              "task_error_kinds": ["auth_failed"]},
    )  # fmt: skip
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["has_secret"] is True
    assert body["origin"] == "api"
    assert body["filters"] == {"groups": ["core"], "task_error_kinds": ["auth_failed"]}
    r = await client.post(
        "/api/v1/notifications",
        json={"name": "chat", "kind": "slack", "url": SLACK, "events": ["config.changed"]},
    )
    assert r.status_code == 201, r.text
    assert r.json()["url"] == "https://hooks.slack.com/…"  # the path is the credential
    listing = await client.get("/api/v1/notifications")
    assert [i["name"] for i in listing.json()["items"]] == ["chat", "ops"]
    assert SECRET not in listing.text
    assert "x=1" not in listing.text
    assert "XXXXSLACKTOKEN" not in listing.text
    again = {"name": "ops", "kind": "webhook", "url": "http://x/", "secret": "s",
             "events": ["job.failed"]}  # fmt: skip
    assert (await client.post("/api/v1/notifications", json=again)).status_code == 409
    assert (await client.delete("/api/v1/notifications/ops")).status_code == 204
    assert (await client.get("/api/v1/notifications/ops")).status_code == 404


async def test_bad_rules_get_clear_errors(client: httpx.AsyncClient) -> None:
    cases = [
        ({"kind": "webhook", "url": "http://x/", "secret": "s", "events": ["job.exploded"]},
         "unknown events"),
        ({"kind": "webhook", "url": "http://x/", "events": ["job.failed"]}, "needs a secret"),
        ({"kind": "webhook", "url": "ftp://x/", "secret": "s", "events": ["job.failed"]},
         "http(s)"),
        ({"kind": "email", "events": ["job.failed"]}, "needs smtp"),
    ]  # fmt: skip
    for fields, words in cases:
        r = await client.post("/api/v1/notifications", json={"name": "bad", **fields})
        assert r.status_code == 422, r.text
        assert words in r.text, r.text
        assert "Traceback" not in r.text


async def test_test_delivery_is_signed_and_logged(client: httpx.AsyncClient) -> None:
    with webhook_receiver(SECRET) as rx:
        r = await client.post(
            "/api/v1/notifications",
            json={"name": "ops", "kind": "webhook", "url": rx.url, "secret": SECRET,
                  "events": ["job.failed"]},
        )  # fmt: skip
        assert r.status_code == 201
        rx.answers = [500]
        r = await client.post("/api/v1/notifications/ops/test")
        assert r.status_code == 200, r.text
        assert r.json()["delivered"] is False
        assert r.json()["status"] == 500
        r = await client.post("/api/v1/notifications/ops/test")
        result = r.json()
        assert result["delivered"] is True
        assert result["status"] == 200
        assert rx.verified == [True]
        (body,) = rx.effects.values()
        assert body["type"] == "notification.test"
        assert body["rule"] == "ops"
    log = (await client.get("/api/v1/notifications/ops/deliveries")).json()["items"]
    assert [(a["outcome"], a["status"]) for a in log] == [("delivered", 200), ("retryable", 500)]
    assert log[0]["delivery_id"] == result["delivery_id"]


async def test_viewers_cannot_change_rules(as_role: object) -> None:
    viewer = await as_role("viewer")  # type: ignore[operator]
    r = await viewer.post(
        "/api/v1/notifications",
        json={"name": "x", "kind": "webhook", "url": "http://x/", "secret": "s",
              "events": ["job.failed"]},
    )  # fmt: skip
    assert r.status_code == 403
    assert (await viewer.get("/api/v1/notifications")).status_code == 200


async def test_no_get_returns_a_rule_secret(client: httpx.AsyncClient) -> None:
    hook_key = "whsec-sweep-77f0a1c9d3"
    smtp_password = "Smtp-Pw-Sweep-5521-z"
    slack = "https://hooks.slack.com/services/T111/B222/SWEEPSLACKTOKEN"
    with webhook_receiver(hook_key) as rx:
        rules = [
            {"name": "hook", "kind": "webhook", "url": rx.url, "secret": hook_key,
             "events": ["job.failed"]},
            {"name": "chat", "kind": "slack", "url": slack, "events": ["job.failed"]},
            {"name": "mail", "kind": "email", "secret": smtp_password, "events": ["job.failed"],
             "smtp": {"host": "127.0.0.1", "port": 9, "security": "none", "username": "ops",
                      "sender": "nf@example.net", "recipients": ["ops@example.net"]}},
        ]  # fmt: skip
        texts = []
        for rule in rules:
            r = await client.post("/api/v1/notifications", json=rule)
            assert r.status_code == 201, r.text
            texts.append(r.text)
        texts.append((await client.post("/api/v1/notifications/hook/test")).text)
        assert rx.verified == [True]  # the stored key signs, so it was kept
    for name in ("hook", "chat", "mail"):
        for path in ("", "/deliveries"):
            r = await client.get(f"/api/v1/notifications/{name}{path}")
            assert r.status_code == 200, r.text
            texts.append(r.text)
    texts.append((await client.get("/api/v1/notifications")).text)
    for text in texts:
        for secret in (hook_key, smtp_password, "SWEEPSLACKTOKEN"):
            assert secret not in text
    assert "Traceback" not in "".join(texts)

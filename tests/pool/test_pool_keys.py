"""Pool keys: credentials and connection options separate sessions; no secrets inside."""

from __future__ import annotations

import dataclasses

from netfleet.core.models import Credential, DeviceSpec, JumpHost
from netfleet.pool.keys import device_fingerprint, session_key

SPEC = DeviceSpec(
    "r1", "10.0.0.1", "cisco_ios", credentials=(Credential("admin", "s3cret", enable_secret="en"),)
)


def test_credentials_and_options_change_the_key() -> None:
    base = session_key(SPEC)
    assert session_key(dataclasses.replace(SPEC)) == base
    other_pw = dataclasses.replace(SPEC, credentials=(Credential("admin", "other"),))
    assert session_key(other_pw) != base
    assert device_fingerprint(other_pw) == device_fingerprint(SPEC)
    other_enable = dataclasses.replace(
        SPEC, credentials=(Credential("admin", "s3cret", enable_secret="x"),)
    )
    assert session_key(other_enable).credential != base.credential
    for change in (
        {"port": 2222},
        {"platform": "cisco_xe"},
        {"legacy_algorithms": True},
        {"host_key_policy": "strict"},
        {"jump_host": JumpHost("bastion")},
    ):
        changed = dataclasses.replace(SPEC, **change)  # type: ignore[arg-type]
        assert session_key(changed) != base, change
        assert device_fingerprint(changed) != device_fingerprint(SPEC), change
    assert session_key(SPEC, "job-opts") != base
    assert session_key(dataclasses.replace(SPEC, max_sessions=9, tags=("x",))) == base


def test_key_holds_no_secret() -> None:
    key = session_key(SPEC)
    for text in (repr(key), str(key)):
        assert "s3cret" not in text

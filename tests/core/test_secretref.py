"""Secret references: env, file (mode checked), exec helpers, and a real login with one."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from netfleet.core.errors import ResourceExhausted, SecretUnavailable
from netfleet.core.models import Credential
from netfleet.core.secretref import SECRETS, SecretResolver, is_reference, parse_ref, resolve_login
from netfleet.core.settings import SecretSettings
from netfleet.device import Device
from netfleet.transport import Timeouts
from netfleet_sim import Simulator
from tests.support.descriptors import descriptors_exhausted


def _helper(tmp_path: Path, name: str, body: str) -> Path:
    path = tmp_path / name
    path.write_text(f"#!{sys.executable}\n{body}\n")
    path.chmod(0o700)
    return path


def _secret_file(tmp_path: Path, text: str, mode: int = 0o600) -> Path:
    path = tmp_path / "secret.txt"
    path.write_text(text)
    path.chmod(mode)
    return path


def test_parse_tells_references_from_literals() -> None:
    assert parse_ref("env:ROUTER_PW") is not None
    assert parse_ref("file:/etc/x") is not None
    assert parse_ref("exec:/usr/bin/helper get x") is not None
    for literal in ("hunter2", "env:", "env:not a name", "file:relative", "exec:helper", "x:y"):
        assert not is_reference(literal), literal
    assert not is_reference(None)


async def test_env_reference(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NF_TEST_PW", "s3cret-env")
    r = SecretResolver()
    assert await r.resolve("env:NF_TEST_PW") == "s3cret-env"
    assert await r.resolve("plain-value") == "plain-value"
    monkeypatch.delenv("NF_TEST_PW")
    with pytest.raises(SecretUnavailable) as info:
        await SecretResolver().resolve("env:NF_TEST_PW", what="password", device="r1")
    assert info.value.kind == "secret_unavailable"
    assert not info.value.transient
    assert "NF_TEST_PW" in str(info.value)
    assert "r1" in str(info.value)


async def test_file_reference_and_its_mode(tmp_path: Path) -> None:
    path = _secret_file(tmp_path, "s3cret-file\n")
    r = SecretResolver()
    assert await r.resolve(f"file:{path}") == "s3cret-file"
    path.chmod(0o644)
    with pytest.raises(SecretUnavailable, match="0644 are too open"):
        await SecretResolver().resolve(f"file:{path}")
    path.chmod(0o640)
    with pytest.raises(SecretUnavailable, match="group or others"):
        await SecretResolver().resolve(f"file:{path}")
    with pytest.raises(SecretUnavailable, match="does not exist"):
        await SecretResolver().resolve(f"file:{tmp_path}/missing")
    big = _secret_file(tmp_path, "x" * 100)
    with pytest.raises(SecretUnavailable, match="larger than 64 bytes"):
        await SecretResolver(SecretSettings(max_bytes=64)).resolve(f"file:{big}")


async def test_exec_reference_passes_arguments_without_a_shell(tmp_path: Path) -> None:
    helper = _helper(tmp_path, "helper", "import sys; print('pw-for-' + sys.argv[1])")
    r = SecretResolver()
    assert await r.resolve(f"exec:{helper} 'r1 $HOME;'") == "pw-for-r1 $HOME;"


async def test_failing_helper_does_not_leak_its_stderr(tmp_path: Path) -> None:
    helper = _helper(
        tmp_path, "bad", "import sys; sys.stderr.write('token=leaked-value'); sys.exit(3)"
    )
    with pytest.raises(SecretUnavailable) as info:
        await SecretResolver().resolve(f"exec:{helper}", what="password")
    assert "status 3" in str(info.value)
    assert "leaked-value" not in str(info.value)
    empty = _helper(tmp_path, "empty", "print()")
    with pytest.raises(SecretUnavailable, match="empty"):
        await SecretResolver().resolve(f"exec:{empty}")
    with pytest.raises(SecretUnavailable, match="not executable"):
        await SecretResolver().resolve(f"exec:{tmp_path}/nope")
    chatty = _helper(tmp_path, "chatty", "print('x' * 5000)")
    with pytest.raises(SecretUnavailable, match="more than 100 bytes"):
        await SecretResolver(SecretSettings(max_bytes=100)).resolve(f"exec:{chatty}")


async def test_hanging_helper_is_killed(tmp_path: Path) -> None:
    pidfile = tmp_path / "pid"
    helper = _helper(
        tmp_path,
        "hang",
        f"import os, time; open({str(pidfile)!r}, 'w').write(str(os.getpid())); time.sleep(600)",
    )
    r = SecretResolver(SecretSettings(exec_timeout_seconds=0.5))
    with pytest.raises(SecretUnavailable, match=r"did not finish within 0\.5 s"):
        await r.resolve(f"exec:{helper}")
    pid = int(pidfile.read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


async def test_values_are_cached_for_the_configured_time(tmp_path: Path) -> None:
    counter = tmp_path / "count.txt"
    helper = _helper(
        tmp_path,
        "count",
        f"import pathlib; p = pathlib.Path({str(counter)!r}); "
        "n = int(p.read_text()) + 1 if p.exists() else 1; p.write_text(str(n)); print(f'v{n}')",
    )
    now = [0.0]
    r = SecretResolver(SecretSettings(cache_seconds=30), clock=lambda: now[0])
    ref = f"exec:{helper}"
    assert await r.resolve(ref) == "v1"
    assert await r.resolve(ref) == "v1"
    now[0] = 31.0
    assert await r.resolve(ref) == "v2"
    assert r.resolutions == 2
    uncached = SecretResolver(SecretSettings(cache_seconds=0))
    assert await uncached.resolve(ref) == "v3"
    assert await uncached.resolve(ref) == "v4"


async def test_resolved_credentials_never_show_in_reprs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NF_TEST_PW2", "very-secret-value")
    login = await resolve_login(
        [Credential("admin", password="env:NF_TEST_PW2", enable_secret="env:NF_TEST_PW2")],
        None,
        "env:NF_TEST_PW2",
        resolver=SecretResolver(),
    )
    assert login.credentials[0].password == "very-secret-value"
    assert login.enable_secret == "very-secret-value"
    assert "very-secret-value" not in repr(login)
    assert "very-secret-value" in login.secrets()


async def test_login_to_the_simulator_with_referenced_secrets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with Simulator(devices=1, platforms=["cisco_ios"], base_port=0) as sim:
        d = sim.devices[0]
        assert d.password
        assert d.enable_secret
        monkeypatch.setenv("NF_SIM_PW", d.password)
        secret = _secret_file(tmp_path, d.enable_secret + "\n")
        dev = Device(
            d.host,
            port=d.port,
            platform=d.platform,
            username=d.username,
            password="env:NF_SIM_PW",
            enable_secret=f"file:{secret}",
            host_key_policy="accept-new",
            known_hosts=tmp_path / "known_hosts",
            timeouts=Timeouts(tcp=5, handshake=5, auth=5, prompt=5),
            command_timeout=5.0,
        )
        async with dev:
            result = await dev.send_command("show version")
            assert result.ok
            await dev.enable()
            assert dev.level == "privileged"
        assert d.stats.logins == 1
        monkeypatch.delenv("NF_SIM_PW")
        SECRETS.clear()
        with pytest.raises(SecretUnavailable, match="NF_SIM_PW"):
            await dev.open()
        # No login was attempted with a failed reference: nothing to lock the account out.
        assert d.stats.logins == 1
        assert d.stats.login_failures == 0
        assert dev.closed


async def test_a_secret_file_unreadable_for_lack_of_descriptors_is_transient(
    tmp_path: Path,
) -> None:
    path = _secret_file(tmp_path, "s3cret\n")
    with descriptors_exhausted(), pytest.raises(ResourceExhausted) as caught:
        await SecretResolver().resolve(f"file:{path}", what="password")
    assert caught.value.transient
    assert caught.value.kind == "resource_exhausted"
    assert "too many open files" in caught.value.message
    assert await SecretResolver().resolve(f"file:{path}") == "s3cret"

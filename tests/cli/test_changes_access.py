"""``netfleet windows`` and ``netfleet jobs approve|gate`` against a real ``netfleet serve``
process on loopback (``--url``, two admin tokens) and on its database (``--db``)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from netfleet.cli.app import app
from tests.support.e2e import NETFLEET, Proc, base_env

Served = tuple[dict[str, str], str, str, str]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """``(env, url, db, second admin token)``: an API-only server requiring approvals."""
    tmp = tmp_path_factory.mktemp("changes")
    token = "nf_" + secrets.token_urlsafe(24)
    db = f"sqlite:///{tmp / 'changes.db'}"
    env = base_env(tmp, NETFLEET_ADMIN_TOKEN=token, NETFLEET_CHANGES__REQUIRE_APPROVAL="true")
    proc = Proc([*NETFLEET, "serve", "--db", db, "--port", "0", "--workers", "0"], env, tmp / "log")
    try:
        url = proc.wait_line(r"serving on (http://\S+)", timeout=60).group(1)
        env.pop("NETFLEET_ADMIN_TOKEN")
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}) as c:
            r = c.post("/api/v1/tokens", json={"name": "second-admin", "role": "admin"})
            assert r.status_code == 201, r.text
            second = r.json()["token"]
            r = c.post(
                "/api/v1/devices",
                json={"name": "r1", "host": "127.0.0.1", "port": 9, "platform": "cisco_ios"},
            )
            assert r.status_code == 201, r.text
        yield {**env, "NETFLEET_TOKEN": token}, url, db, second
    finally:
        assert proc.stop() == 0, proc.stderr()[-2000:]


def run(served: Served, *args: str, token: str | None = None) -> tuple[int, str]:
    env, url, _, _ = served
    env = {**env, "NETFLEET_TOKEN": token} if token else env
    result = CliRunner().invoke(app, [*args, "--url", url], env=env)
    return result.exit_code, result.output


def test_windows_answer_the_same_over_url_and_db(served: Served) -> None:
    env, url, db, _ = served
    code, out = run(served, "windows", "set", "weekend", "--weekly", "sat 22:00-sun 06:00")
    assert code == 0, out
    for args in (
        ["windows", "list"],
        ["windows", "show", "weekend"],
        ["windows", "list", "-o", "json"],
    ):
        remote = CliRunner().invoke(app, [*args, "--url", url], env=env)
        local = CliRunner().invoke(app, [*args, "--db", db], env=env)
        assert remote.exit_code == local.exit_code == 0, (remote.output, local.output)
        assert remote.stdout == local.stdout
    code, out = run(served, "windows", "check", "--at", "2026-12-02T12:00:00Z")
    assert code == 1
    assert "next opening 2026-12-05 22:00:00 UTC" in out
    assert run(served, "windows", "delete", "weekend")[0] == 0


def test_approval_by_a_second_admin_over_the_api(served: Served, tmp_path: Path) -> None:
    lines = tmp_path / "ntp.txt"
    lines.write_text("ntp server 192.0.2.1\n")
    code, out = run(served, "jobs", "submit", "-d", "r1", "--config-file", str(lines))
    assert code == 0, out
    assert "1 task(s) awaiting approval" in out
    job_id = out.split()[1].rstrip(":")
    code, out = run(served, "jobs", "approve", job_id)
    assert code == 2
    assert f"submitted job {job_id}; another admin must approve it" in out
    code, out = run(served, "jobs", "approve", job_id, token=served[3])
    assert code == 0, out
    assert f"job {job_id}: queued; approved by second-admin" in out
    code, out = run(served, "jobs", "gate", job_id)
    assert "approved by second-admin" in out

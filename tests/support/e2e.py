"""End-to-end harness: real ``netfleet`` processes, free ports, bounded waits."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx

T = TypeVar("T")
NETFLEET = [sys.executable, "-c", "from netfleet.cli.app import main; main()"]
SIM = [sys.executable, "-m", "netfleet_sim"]


@dataclass(frozen=True)
class Server:
    url: str
    token: str
    env: dict[str, str]
    """Environment for CLI calls against this server (NETFLEET_URL, NETFLEET_TOKEN set)."""
    proc: Proc


def free_port() -> int:
    """A port nothing listens on right now (bound to 0, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def base_env(tmp: Path, **extra: str) -> dict[str, str]:
    """Environment isolating a netfleet process in ``tmp`` (home, key, known hosts, config)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NETFLEET_")}
    env.update(
        HOME=str(tmp),
        NETFLEET_CONFIG=str(tmp / "no-such-netfleet.toml"),
        NETFLEET_CLI_CONFIG=str(tmp / "no-such-cli.toml"),
        NETFLEET_SERVICE__KEY_FILE=str(tmp / "secret.key"),
        NETFLEET_CONNECT__KNOWN_HOSTS=str(tmp / "known_hosts"),
        NETFLEET_LOG__LEVEL="WARNING",
        NETFLEET_WORKER__POLL_SECONDS="0.1",
        NETFLEET_WORKER__HEARTBEAT_SECONDS="0.5",
        NETFLEET_WORKER__DRAIN_TIMEOUT_SECONDS="5",
    )
    env.update(extra)
    return env


class Proc:
    """A long-running child process whose stdout lines are collected by a thread."""

    def __init__(self, argv: list[str], env: dict[str, str], log: Path) -> None:
        self.log = log
        self._err = log.open("wb")
        self.proc = subprocess.Popen(
            argv,
            env=env,
            stdout=subprocess.PIPE,
            stderr=self._err,
            stdin=subprocess.DEVNULL,
            text=True,
        )
        self.lines: list[str] = []
        self._cond = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            with self._cond:
                self.lines.append(line.rstrip("\n"))
                self._cond.notify_all()
        with self._cond:
            self._cond.notify_all()

    def stdout(self) -> str:
        with self._cond:
            return "\n".join(self.lines)

    def stderr(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_line(self, pattern: str, timeout: float) -> re.Match[str]:
        """The first stdout line matching ``pattern``; fails after ``timeout`` or on exit."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        seen = 0
        with self._cond:
            while True:
                for line in self.lines[seen:]:
                    m = rx.search(line)
                    if m:
                        return m
                seen = len(self.lines)
                left = deadline - time.monotonic()
                if left <= 0 or (self.proc.poll() is not None and not self._reader.is_alive()):
                    raise AssertionError(
                        f"no line matching {pattern!r} (exit {self.proc.poll()}):\n"
                        f"{self.stdout()}\n--- stderr ---\n{self.stderr()[-3000:]}"
                    )
                self._cond.wait(min(left, 0.2))

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15.0) -> int:
        """Signal the process and wait for it; kill it if it does not stop in time."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
            raise AssertionError(f"{self.proc.args[-1]} did not stop within {timeout} s") from None
        finally:
            self._reader.join(5)
            self._err.close()
            if self.proc.stdout is not None:
                self.proc.stdout.close()
        return code


def run_cli(
    args: list[str], env: dict[str, str], *, timeout: float = 30.0, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``netfleet ARGS`` to completion (bounded by ``timeout``)."""
    return subprocess.run(
        [*NETFLEET, *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def poll(fn: Callable[[], T | None], timeout: float, what: str, every: float = 0.1) -> T:
    """Call ``fn`` until it returns something other than None; fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = fn()
        if value is not None:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(every)


def wait_job(api: httpx.Client, job_id: int, timeout: float = 30.0) -> dict[str, Any]:
    """The job's detail once it has finished."""

    def finished() -> dict[str, Any] | None:
        r = api.get(f"/api/v1/jobs/{job_id}")
        assert r.status_code == 200, r.text
        body: dict[str, Any] = r.json()
        return body if body["finished_at"] is not None else None

    return poll(finished, timeout, f"job {job_id} to finish")


@contextlib.contextmanager
def client(url: str, token: str) -> Any:
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=20) as c:
        yield c

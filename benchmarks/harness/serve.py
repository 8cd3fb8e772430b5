"""Start ``netfleet serve`` in a subprocess on a free loopback port, for benchmarks."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

NETFLEET = [sys.executable, "-c", "from netfleet.cli.app import main; main()"]


def start_server(
    tmp: Path, token: str, *, db_name: str = "bench.db", workers: int = 0
) -> tuple[subprocess.Popen[str], str]:
    """A running service on a SQLite file in ``tmp`` with admin ``token``; (process, URL)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NETFLEET_")}
    env.update(
        HOME=str(tmp),
        NETFLEET_CONFIG=str(tmp / "none.toml"),
        NETFLEET_ADMIN_TOKEN=token,
        NETFLEET_SERVICE__KEY_FILE=str(tmp / "secret.key"),
        NETFLEET_LOG__LEVEL="WARNING",
    )
    db = f"sqlite:///{tmp / db_name}"
    argv = [*NETFLEET, "serve", "--db", db, "--port", "0", "--workers", str(workers)]
    proc = subprocess.Popen(
        argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    found: list[str] = []

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            m = re.search(r"serving on (http://\S+)", line)
            if m and not found:
                found.append(m.group(1))

    threading.Thread(target=read, daemon=True).start()
    deadline = time.monotonic() + 60
    while not found:
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise SystemExit("netfleet serve did not start")
        time.sleep(0.05)
    return proc, found[0]

"""A private PostgreSQL cluster for a benchmark: initdb'd in a temporary directory,
on its own loopback port, restartable mid-run (the chaos suite restarts it)."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path


def _bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}")) or [shutil.which(name) or ""]
    if not found[-1]:
        raise SystemExit(f"PostgreSQL's {name} not found (/usr/lib/postgresql/*/bin or PATH)")
    return found[-1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PrivatePostgres:
    """``start()``, ``restart()``, ``stop()`` a cluster owned by this process. As root it
    runs as the ``postgres`` user (PostgreSQL refuses to run as root)."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="netfleet-pg-"))
        self.data = self.dir / "data"
        self.port = _free_port()
        self.restarts = 0
        self._as: list[str] = []
        if os.geteuid() == 0:
            self._as = ["runuser", "-u", "postgres", "--"]
            shutil.chown(self.dir, "postgres")
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *argv: str) -> None:
        done = subprocess.run(
            [*self._as, *argv], capture_output=True, text=True, timeout=120, check=False
        )
        if done.returncode:
            raise SystemExit(f"{Path(argv[0]).name} failed: {done.stderr.strip()[-500:]}")

    def start(self) -> str:
        """Start the cluster (initdb on first start); returns its admin URL."""
        if not self.data.exists():
            self._run(_bin("initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust",
                      "--no-sync", "-E", "UTF8")  # fmt: skip
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.dir} "
            "-c fsync=off -c max_connections=200"
        )
        self._run(_bin("pg_ctl"), "-D", str(self.data), "-o", options, "-l",
                  str(self.dir / "pg.log"), "-w", "-t", "120", "start")  # fmt: skip
        return self.url

    def restart(self, *, mode: str = "immediate", down_s: float = 0.0) -> None:
        """Stop (``immediate``: like a crash, no checkpoint), stay down ``down_s``, start."""
        self._run(_bin("pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")
        time.sleep(down_s)
        self.start()
        self.restarts += 1

    def start_command(self) -> str:
        """The shell command that starts the (kept) cluster again."""
        who = " ".join(self._as)
        return (
            f"{who} {_bin('pg_ctl')} -D {self.data} -o '-p {self.port} -k {self.dir} "
            f"-c listen_addresses=127.0.0.1' -l {self.dir / 'pg.log'} -w start  # then "
            f"psql -h 127.0.0.1 -p {self.port} -U postgres chaos"
        ).strip()

    def stop(self, *, keep: bool = False) -> None:
        """Stop the cluster and remove its directory (``keep``: leave the directory)."""
        if (self.data / "postmaster.pid").exists():
            subprocess.run(
                [*self._as, _bin("pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop"],
                capture_output=True,
                timeout=120,
                check=False,
            )
        if not keep:
            shutil.rmtree(self.dir, ignore_errors=True)


def create_database(admin_url: str, name: str) -> str:
    """Create database ``name`` on the cluster at ``admin_url``; returns its URL."""
    import sqlalchemy as sa

    engine = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    finally:
        engine.dispose()
    return admin_url.rsplit("/", 1)[0] + f"/{name}"

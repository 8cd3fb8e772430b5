"""``netfleet serve`` started while its database is unreachable waits for it."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli.test_serve import NETFLEET, PRESET, _env
from tests.support.pgserver import PrivatePostgres, find_pg_bin
from tests.support.worker import eventually

WAITING = "database unavailable; the service waits for it"


class Serving:
    """``netfleet serve`` on ``db`` with its stdout and stderr read as they come."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.out: list[str] = []
        self.err: list[str] = []
        assert proc.stdout is not None
        assert proc.stderr is not None
        self._readers = [
            asyncio.create_task(self._read(proc.stdout, self.out)),
            asyncio.create_task(self._read(proc.stderr, self.err)),
        ]

    @staticmethod
    async def _read(stream: asyncio.StreamReader, into: list[str]) -> None:
        while raw := await stream.readline():
            into.append(raw.decode(errors="replace"))

    def said(self, text: str, *, err: bool = True) -> bool:
        return any(text in line for line in (self.err if err else self.out))

    async def stop(self) -> int:
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(self.proc.wait(), timeout=60)
        await asyncio.gather(*self._readers)
        return code

    def kill(self) -> None:
        if self.proc.returncode is None:
            self.proc.kill()


async def serve(tmp_path: Path, db: str) -> Serving:
    env = _env(tmp_path, NETFLEET_ADMIN_TOKEN=PRESET)
    proc = await asyncio.create_subprocess_exec(
        *NETFLEET, "serve", "--db", db, "--port", "0", "--workers", "1",
        cwd=tmp_path, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    return Serving(proc)


@pytest.fixture
def stopped_pg() -> Iterator[PrivatePostgres]:
    """A private PostgreSQL server, initdb'd but not started (its port is closed)."""
    bin_dir = find_pg_bin()
    if bin_dir is None:
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) are not installed")
    server = PrivatePostgres(bin_dir)
    try:
        yield server
    finally:
        server.cleanup()


async def test_waits_for_an_unreachable_database_and_exits_0_on_sigterm(tmp_path: Path) -> None:
    s = await serve(tmp_path, "postgresql://postgres@127.0.0.1:1/none")
    try:

        async def waiting() -> bool:
            assert s.proc.returncode is None, "".join(s.err)[-2000:]  # not exited with 3
            return s.said(WAITING)

        await eventually(waiting, timeout=90, what="the service waiting for the database")
        assert await s.stop() == 0
        assert not s.said("Traceback")
        assert sum(WAITING in line for line in s.err) == 1  # once per 30 s, not per retry
    finally:
        s.kill()


@pytest.mark.postgres
async def test_comes_up_once_the_database_starts(
    tmp_path: Path, stopped_pg: PrivatePostgres
) -> None:
    s = await serve(tmp_path, stopped_pg.url)
    try:

        async def waiting() -> bool:
            return s.said(WAITING)

        await eventually(waiting, timeout=90, what="the service waiting for the database")
        assert not s.said("serving on", err=False)
        await asyncio.to_thread(stopped_pg.start)

        async def serving() -> bool:
            assert s.proc.returncode is None, "".join(s.err)[-2000:]
            return s.said("serving on", err=False)

        await eventually(serving, timeout=90, what="the service up after the database started")
        assert await s.stop() == 0
        assert not s.said("Traceback")
    finally:
        s.kill()

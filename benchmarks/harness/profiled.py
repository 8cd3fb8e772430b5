"""Run the ``netfleet`` command line under cProfile, for benchmarks (``NETFLEET_BENCH_PROFILE``).

    python benchmarks/harness/profiled.py OUT_PREFIX worker --db URL ...

Nothing is profiled until SIGUSR1 (so imports and start-up stay out); SIGUSR2 stops
and writes ``OUT_PREFIX.main.prof`` (the event loop's thread) and
``OUT_PREFIX.store.prof`` (the store's threads: every transaction, merged). Read them
with ``python -m pstats``.
"""

from __future__ import annotations

import cProfile
import signal
import sys
import threading
from collections.abc import Callable
from typing import Any

from netfleet.cli.app import main
from netfleet.store.database import Database

_on = threading.Event()
_main = cProfile.Profile()
_store: list[cProfile.Profile] = []
_local = threading.local()
_transaction = Database._transaction


def _profiled_transaction(self: Database, what: str, fn: Callable[..., Any], write: bool) -> Any:
    if not _on.is_set():
        return _transaction(self, what, fn, write)
    prof = getattr(_local, "prof", None)
    if prof is None:
        prof = _local.prof = cProfile.Profile()
        _store.append(prof)
    prof.enable()
    try:
        return _transaction(self, what, fn, write)
    finally:
        prof.disable()


def _start(*_: object) -> None:
    _on.set()
    _main.enable()


def _stop(*_: object) -> None:
    _main.disable()
    _on.clear()
    _main.dump_stats(f"{prefix}.main.prof")
    if _store:
        import pstats

        stats = pstats.Stats(_store[0])
        for prof in _store[1:]:
            stats.add(prof)
        stats.dump_stats(f"{prefix}.store.prof")


if __name__ == "__main__":
    prefix = sys.argv[1]
    sys.argv = [sys.argv[0], *sys.argv[2:]]
    Database._transaction = _profiled_transaction  # type: ignore[method-assign]
    signal.signal(signal.SIGUSR1, _start)
    signal.signal(signal.SIGUSR2, _stop)
    main()

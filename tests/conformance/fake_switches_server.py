"""Run one fake-switches device over SSH on 127.0.0.1 (a subprocess of the tests).

Usage: ``python fake_switches_server.py MODEL HOSTNAME USER PASSWORD``; prints
``port=N`` on stdout once it listens on a free port, then serves until killed.
fake-switches' own launcher passes the enable password as bytes, which never equals the
typed text on Python 3; this one passes it as text.
"""

from __future__ import annotations

import logging
import sys


def main() -> None:
    from fake_switches import switch_factory
    from fake_switches.transports.ssh_service import SwitchSshService
    from twisted.internet import reactor

    logging.basicConfig(level=logging.ERROR)
    model, hostname, user, password = sys.argv[1:5]
    core = switch_factory.SwitchFactory().get(model, hostname, password)
    service = SwitchSshService(
        ip="127.0.0.1", port=0, switch_core=core, users={user: password.encode()}
    )
    port = service.hook_to_reactor(reactor)
    print(f"port={port.getHost().port}", flush=True)
    reactor.run()  # type: ignore[attr-defined]


if __name__ == "__main__":
    main()

"""Run FakeNOS devices over SSH on 127.0.0.1 (a subprocess of the tests).

Usage: ``python fakenos_server.py USER PASSWORD NAME=PLATFORM:PORT ...``; prints
``ready`` on stdout once every device listens, then serves until stdin closes.
"""

from __future__ import annotations

import logging
import sys


def main() -> None:
    from fakenos import FakeNOS

    logging.basicConfig(level=logging.ERROR)
    user, password, *devices = sys.argv[1:]
    hosts = {}
    for item in devices:
        name, _, rest = item.partition("=")
        platform, _, port = rest.partition(":")
        hosts[name] = {"platform": platform, "port": int(port)}
    inventory = {"default": {"username": user, "password": password}, "hosts": hosts}
    net = FakeNOS(inventory=inventory)
    net.start()
    print("ready", flush=True)
    try:
        sys.stdin.read()
    finally:
        net.stop()


if __name__ == "__main__":
    main()

"""The SSH boundary: the only netfleet package that imports asyncssh."""

import warnings

from cryptography.utils import CryptographyDeprecationWarning

with warnings.catch_warnings():
    # cryptography 51 deprecates DSA, and asyncssh names its DSA classes when imported:
    # ten lines of warnings on every command, about no key in use.
    warnings.filterwarnings("ignore", "DSA is deprecated", CryptographyDeprecationWarning)
    import asyncssh  # noqa: F401

from netfleet.transport.connect import ShellSink, ShellTransport, open_shell
from netfleet.transport.errors import BUSY_RE, is_busy_text
from netfleet.transport.hostkeys import KnownHosts
from netfleet.transport.jump import JUMP_HOSTS, JumpHostRegistry
from netfleet.transport.options import ConnectOptions, ConnectTimings, Timeouts

__all__ = [
    "BUSY_RE",
    "JUMP_HOSTS",
    "ConnectOptions",
    "ConnectTimings",
    "JumpHostRegistry",
    "KnownHosts",
    "ShellSink",
    "ShellTransport",
    "Timeouts",
    "is_busy_text",
    "open_shell",
]

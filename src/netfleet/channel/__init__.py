"""Event-driven read-until-prompt over an interactive shell."""

from netfleet.channel.channel import Channel, Hit
from netfleet.channel.errors import FramingError, ReadTimeout
from netfleet.channel.text import echo_matches, normalize, strip_echo

__all__ = [
    "Channel",
    "FramingError",
    "Hit",
    "ReadTimeout",
    "echo_matches",
    "normalize",
    "strip_echo",
]

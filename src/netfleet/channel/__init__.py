"""Event-driven read-until-prompt over an interactive shell."""

from netfleet.channel.channel import Channel, ReadTimeout
from netfleet.channel.text import normalize, strip_echo

__all__ = ["Channel", "ReadTimeout", "normalize", "strip_echo"]

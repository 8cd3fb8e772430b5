"""One SSH session to one device: ``Device`` (async), ``SyncDevice``, ``autodetect``."""

from netfleet.core.models import CommandResult
from netfleet.device.autodetect import autodetect
from netfleet.device.device import Device
from netfleet.device.reply import Reply
from netfleet.device.results import NOT_RUN, ConfigResult
from netfleet.device.sync import SyncDevice

__all__ = [
    "NOT_RUN",
    "CommandResult",
    "ConfigResult",
    "Device",
    "Reply",
    "SyncDevice",
    "autodetect",
]

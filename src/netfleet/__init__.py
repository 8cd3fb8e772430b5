"""netfleet: run CLI commands and configuration on fleets of network devices over SSH."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("netfleet")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"

__all__ = ["__version__"]

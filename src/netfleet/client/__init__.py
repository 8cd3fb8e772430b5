"""The Python API: ``Netfleet`` submits jobs to the durable queue, reads their results,
and manages inventory and schedules, all through the store (never the REST service).

``from netfleet import Netfleet`` loads it on first use.
"""

from netfleet.client.netfleet import Netfleet
from netfleet.client.results import Job, TaskResult

__all__ = ["Job", "Netfleet", "TaskResult"]

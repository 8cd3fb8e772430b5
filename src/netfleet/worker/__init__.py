"""The worker runtime: claim loop, leases and heartbeats, reaper, graceful shutdown."""

from netfleet.worker.worker import Worker, WorkerConfig, new_worker_id

__all__ = ["Worker", "WorkerConfig", "new_worker_id"]

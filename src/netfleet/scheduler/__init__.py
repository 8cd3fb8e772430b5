"""The scheduler: fires due schedules into jobs, exactly once across any number of processes.

Start it inside a worker (or alone) with::

    stop = asyncio.Event()
    await run_scheduler(store, stop, interval=1.0)

Every firing is ``submit(spec, schedule_id=..., fire_time=...)`` (unique per schedule and
fire time, so a repeat returns the existing job) followed by a conditional advance of
``next_fire_at`` (``UPDATE ... WHERE next_fire_at = :old``); the schedulers agree on
database time.
"""

from __future__ import annotations

from netfleet.scheduler.loop import Scheduler, TickReport, run_scheduler

__all__ = ["Scheduler", "TickReport", "run_scheduler"]

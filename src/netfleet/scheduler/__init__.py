"""The scheduler: fires due schedules into jobs, exactly once across any number of processes.

Start it inside a worker (or alone) with::

    stop = asyncio.Event()
    await run_scheduler(store, stop, interval=1.0)

Each firing is one transaction: a conditional advance of ``next_fire_at``
(``UPDATE ... WHERE next_fire_at = :old``, which only one scheduler wins) and the job
insert, unique per ``(schedule_id, fire_time)``. The schedulers agree on database time.
"""

from __future__ import annotations

from netfleet.scheduler.loop import Scheduler, TickReport, run_scheduler

__all__ = ["Scheduler", "TickReport", "run_scheduler"]

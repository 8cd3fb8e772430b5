"""The façade of dashboard-only reads: ``store.pages``."""

from __future__ import annotations

from netfleet.jobs.model import Targets
from netfleet.store.facades import Facade
from netfleet.store.sql import pages as pages_sql
from netfleet.store.sql.pages import OverviewCounts, TargetPreview, WorkerSessions


class Pages(Facade):
    """What the dashboard's forms and device page read besides the other families."""

    async def preview_targets(self, targets: Targets, *, limit: int = 50) -> TargetPreview:
        """How many devices ``targets`` match and the first ``limit`` names (or why none),
        resolved exactly as a submitted job's targets are."""
        return await self._db.run(
            lambda c: pages_sql.preview_targets(c, targets, max(0, min(limit, 1000))),
            what="preview job targets",
            write=False,
            idempotent=True,
        )

    async def device_sessions(self, device_id: int) -> list[WorkerSessions]:
        """Per worker, the sessions open to the device now (running and idle)."""
        db = self._db
        return await db.run(
            lambda c: pages_sql.device_sessions(c, device_id, db.clock(c)),
            what="read a device's sessions",
            write=False,
            idempotent=True,
        )

    async def overview(self) -> OverviewCounts:
        """The overview's counts, at a cost that does not grow with the tasks stored."""
        db = self._db
        return await db.run(
            lambda c: pages_sql.overview_counts(c, db.clock(c)),
            what="read the overview",
            write=False,
            idempotent=True,
        )

"""Façade of unmasked outputs: ``store.raw_outputs`` (``netfleet.store.sql.raw_outputs``)."""

from __future__ import annotations

import builtins

from netfleet.store.facades import Facade, clamp
from netfleet.store.sql import raw_outputs as raw_sql
from netfleet.store.sql.raw_outputs import RawOutput


class RawOutputs(Facade):
    """Outputs before masking, encrypted at rest; for admins only (the API checks)."""

    async def read(self, task_id: int) -> builtins.list[RawOutput]:
        """The task's outputs, decrypted raw text where it was kept (``masking.keep_raw``)."""
        db = self._db
        return await db.run(
            lambda c: raw_sql.read(c, db.box, clamp(task_id)),
            what=f"read raw outputs of task {task_id}",
            write=False,
        )

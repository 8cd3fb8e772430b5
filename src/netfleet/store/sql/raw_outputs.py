"""Unmasked device outputs, encrypted at rest (``masking.keep_raw``).

Stored outputs are always masked. With ``masking.keep_raw`` a command result also
carries the text before masking; it is kept here, Fernet-encrypted with the store's
secret key, one row per stored output that masking changed, and deleted with it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from netfleet.store.crypto import SecretBox
from netfleet.store.records import TaskOutcome
from netfleet.store.schema import task_outputs
from netfleet.store.schema_hardening import task_raw_outputs


@dataclass(frozen=True, slots=True)
class RawOutput:
    """One stored output of a task, unmasked where the raw text was kept."""

    attempt: int
    seq: int
    command: str
    output: str
    raw: bool
    """True: ``output`` is the unmasked text; False: nothing was masked or kept."""


def keep(
    conn: Connection,
    box: SecretBox,
    items: Sequence[tuple[int, int, TaskOutcome]],
    recorded: Sequence[object | None],
) -> int:
    """Store the raw outputs of the completions that were recorded (``recorded[i]`` not
    None); returns how many."""
    wanted: dict[tuple[int, int, int], str] = {}
    for (task_id, attempt, outcome), done in zip(items, recorded, strict=True):
        if done is None:
            continue
        for seq, result in enumerate(outcome.outputs):
            if result.raw_output is not None:
                wanted[(task_id, attempt, seq)] = result.raw_output
    if not wanted:
        return 0
    o = task_outputs.c
    rows = conn.execute(
        sa.select(o.id, o.task_id, o.attempt, o.seq).where(
            o.task_id.in_(sorted({k[0] for k in wanted}))
        )
    ).all()
    values = [
        {
            "output_id": r.id,
            "task_id": r.task_id,
            "output_enc": box.encrypt(wanted[(r.task_id, r.attempt, r.seq)]),
        }
        for r in rows
        if (r.task_id, r.attempt, r.seq) in wanted
    ]
    if values:
        conn.execute(task_raw_outputs.insert(), values)
    return len(values)


def read(conn: Connection, box: SecretBox, task_id: int) -> list[RawOutput]:
    """Every stored output of ``task_id`` (all attempts), raw text where it was kept."""
    o, r = task_outputs.c, task_raw_outputs.c
    rows = conn.execute(
        sa.select(o.attempt, o.seq, o.command, o.output, r.output_enc)
        .select_from(task_outputs.outerjoin(task_raw_outputs, r.output_id == o.id))
        .where(o.task_id == task_id)
        .order_by(o.attempt, o.seq)
    ).all()
    out = []
    for row in rows:
        raw = box.decrypt(row.output_enc, what="a raw output")
        out.append(
            RawOutput(
                row.attempt,
                row.seq,
                row.command,
                raw if raw is not None else row.output,
                raw is not None,
            )
        )
    return out

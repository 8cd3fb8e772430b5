"""Staged rollouts: the ``rollout`` job option and its batch plan (pure functions).

``{"canary": N, "batches": ["10%", "50%", "100%"], "max_failures": K | "5%",
"pause_s": S}``: the first N devices run alone (the canary); then each entry of
``batches`` is the size of the next batch (a count, or a percentage of all the
job's devices), the last entry repeating until every device has had its turn (as
Ansible's ``serial``). Devices are taken in name order. A batch is released only
after the previous one finished, and ``pause_s`` later. The job halts when more
than ``max_failures`` tasks failed (a count, or a percentage of all devices,
rounded down): nothing further is released until it is resumed or cancelled.
"""

from __future__ import annotations

import math
import re

from pydantic import BaseModel, ConfigDict, Field, field_validator

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*%\s*$")


def _check_size(value: int | str, *, minimum: int) -> int | str:
    if isinstance(value, int):
        if value < minimum:
            raise ValueError(f"a count must be at least {minimum}")
        return value
    match = _SIZE.match(value)
    if match is None:
        raise ValueError(f"{value!r} is neither a count nor a percentage such as '10%'")
    percent = float(match.group(1))
    if not minimum <= percent <= 100:
        raise ValueError(f"{value!r}: a percentage must be within {minimum}%..100%")
    return f"{match.group(1)}%"


def resolve_size(value: int | str, total: int, *, at_least_one: bool) -> int:
    """A count, or a percentage of ``total`` (rounded up for batches, down for budgets)."""
    if isinstance(value, int):
        return value
    percent = float(value.rstrip("%"))
    exact = total * percent / 100
    size = math.ceil(exact - 1e-9) if at_least_one else math.floor(exact + 1e-9)
    return max(size, 1) if at_least_one else size


class RolloutOptions(BaseModel):
    """Release a job's tasks in batches, halting when the failure budget is exceeded."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    canary: int = Field(0, ge=0, le=10_000, description="Devices in the first batch, alone.")
    batches: list[int | str] = Field(
        default_factory=lambda: list[int | str](["100%"]),
        min_length=1,
        max_length=100,
        description="Sizes of the following batches (counts or '10%'); the last repeats.",
    )
    max_failures: int | str = Field(
        0, description="Failed tasks tolerated before the job halts: a count or '5%' of devices."
    )
    pause_s: float = Field(0.0, ge=0, le=86_400, description="Wait between batches.")

    @field_validator("batches")
    @classmethod
    def _batches(cls, value: list[int | str]) -> list[int | str]:
        return [_check_size(v, minimum=1) for v in value]

    @field_validator("max_failures")
    @classmethod
    def _budget(cls, value: int | str) -> int | str:
        return _check_size(value, minimum=0)

    def plan(self, total: int) -> list[int]:
        """Batch sizes for ``total`` tasks, summing to ``total`` (empty for none)."""
        sizes: list[int] = []
        left = total
        if self.canary and left:
            sizes.append(min(self.canary, left))
            left -= sizes[-1]
        index = 0
        while left > 0:
            entry = self.batches[min(index, len(self.batches) - 1)]
            size = min(resolve_size(entry, total, at_least_one=True), left)
            sizes.append(size)
            left -= size
            index += 1
        return sizes

    def budget(self, total: int) -> int:
        """Failed tasks tolerated (more halts the job)."""
        return resolve_size(self.max_failures, total, at_least_one=False)

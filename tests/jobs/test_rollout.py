"""The rollout option: batch plans and failure budgets (pure functions)."""

from __future__ import annotations

import pytest

from netfleet.core.errors import ValidationError
from netfleet.jobs.model import parse_job_spec
from netfleet.jobs.rollout import RolloutOptions


def test_canary_then_percentages_with_the_last_repeating() -> None:
    r = RolloutOptions(canary=2, batches=["10%", "50%", "100%"])
    assert r.plan(100) == [2, 10, 50, 38]
    assert RolloutOptions(batches=[3]).plan(10) == [3, 3, 3, 1]
    assert RolloutOptions(canary=1, batches=["25%"]).plan(8) == [1, 2, 2, 2, 1]
    assert RolloutOptions(canary=5).plan(3) == [3]
    assert RolloutOptions(canary=1).plan(0) == []


def test_percentages_round_up_for_batches_and_down_for_budgets() -> None:
    r = RolloutOptions(batches=["10%"], max_failures="5%")
    assert r.plan(5) == [1, 1, 1, 1, 1]
    assert r.budget(10) == 0
    assert r.budget(100) == 5
    assert RolloutOptions(max_failures=3).budget(10) == 3
    for total in range(1, 60):
        assert sum(RolloutOptions(canary=2, batches=["33%", 7]).plan(total)) == total


@pytest.mark.parametrize(
    ("rollout", "problem"),
    [
        ({"batches": ["0%"]}, "within 1%..100%"),
        ({"batches": ["150%"]}, "within 1%..100%"),
        ({"batches": ["ten"]}, "neither a count nor a percentage"),
        ({"batches": [0]}, "at least 1"),
        ({"batches": []}, "at least 1 item"),
        ({"max_failures": "-1%"}, "neither a count"),
        ({"canary": -1}, "greater than or equal to 0"),
        ({"pause_s": -5}, "greater than or equal to 0"),
        ({"serial": 3}, "Extra inputs"),
    ],
)
def test_bad_rollouts_are_refused_naming_the_field(rollout: object, problem: str) -> None:
    with pytest.raises(ValidationError) as err:
        parse_job_spec(
            {"targets": {"devices": ["a"]}, "config": ["x"], "options": {"rollout": rollout}}
        )
    assert "options.rollout" in err.value.message
    assert problem in err.value.message

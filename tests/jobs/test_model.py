"""The job model: state derivation (property-based), defaults, retry policy."""

from __future__ import annotations

import random

from hypothesis import given
from hypothesis import strategies as st

from netfleet.jobs.model import (
    TASK_STATES,
    TERMINAL_TASK_STATES,
    JobSpec,
    TaskCounts,
    derive_job_state,
)
from netfleet.jobs.retry import backoff_delay, should_retry

states = st.lists(st.sampled_from(TASK_STATES), min_size=1, max_size=30)


@given(states)
def test_job_state_follows_its_tasks(task_states: list[str]) -> None:
    state = derive_job_state(TaskCounts.of(task_states))
    finished = [s for s in task_states if s in TERMINAL_TASK_STATES]
    if len(finished) < len(task_states):
        started = any(s not in ("queued",) for s in task_states)
        assert state == ("running" if started else "queued")
    elif all(s == "succeeded" for s in task_states):
        assert state == "succeeded"
    elif "succeeded" in task_states:
        assert state == "partial"
    elif "failed" in task_states:
        assert state == "failed"
    else:
        assert state == "cancelled"


@given(states, st.randoms(use_true_random=False))
def test_job_state_ignores_task_order(task_states: list[str], rnd: random.Random) -> None:
    shuffled = list(task_states)
    rnd.shuffle(shuffled)
    assert derive_job_state(TaskCounts.of(shuffled)) == derive_job_state(TaskCounts.of(task_states))


def test_defaults_differ_for_commands_and_config() -> None:
    cmd = JobSpec.model_validate({"targets": {"devices": ["a"]}, "commands": ["show clock"]})
    cfg = JobSpec.model_validate({"targets": {"devices": ["a"]}, "config": ["hostname a"]})
    idem = JobSpec.model_validate(
        {"targets": {"devices": ["a"]}, "config": ["x"], "options": {"idempotent": True}}
    )
    assert (cmd.kind, cmd.max_attempts, cmd.exclusive, cmd.repeatable) == (
        "commands",
        3,
        False,
        True,
    )
    assert (cfg.kind, cfg.max_attempts, cfg.exclusive, cfg.repeatable) == ("config", 1, True, False)
    assert (idem.max_attempts, idem.repeatable) == (3, True)


@given(st.integers(1, 40), st.floats(0, 100), st.floats(0, 1000))
def test_backoff_is_bounded_and_jittered(attempt: int, base: float, cap: float) -> None:
    spec = JobSpec.model_validate(
        {
            "targets": {"devices": ["a"]},
            "commands": ["x"],
            "options": {"backoff_base_s": base, "backoff_max_s": cap},
        }
    )
    delay = backoff_delay(spec.options, attempt, random.Random(attempt))
    full = min(cap, base * 2 ** (attempt - 1))
    assert full / 2 <= delay <= full


def test_should_retry_policy() -> None:
    opts = JobSpec.model_validate({"targets": {"devices": ["a"]}, "commands": ["x"]}).options
    assert should_retry(opts, attempt=1, max_attempts=3, transient=True)
    assert not should_retry(opts, attempt=3, max_attempts=3, transient=True)
    assert not should_retry(opts, attempt=1, max_attempts=3, transient=False)
    assert not should_retry(opts, attempt=1, max_attempts=3, transient=True, retryable=False)

"""Retry policy: whether a failed attempt runs again, and after what backoff."""

from __future__ import annotations

import random

from netfleet.jobs.model import JobOptions


def should_retry(
    options: JobOptions,
    *,
    attempt: int,
    max_attempts: int,
    transient: bool,
    retryable: bool = True,
) -> bool:
    """True when attempt number ``attempt`` failed and another one is allowed.

    ``retry_on``: ``never`` never retries, ``transient`` only errors that may go
    away (connect problems, timeouts), ``any`` every error. ``retryable=False``
    (e.g. config half applied) always wins.
    """
    if not retryable or attempt >= max_attempts or options.retry_on == "never":
        return False
    return options.retry_on == "any" or transient


def backoff_delay(options: JobOptions, attempt: int, rng: random.Random | None = None) -> float:
    """Seconds to wait before attempt ``attempt + 1``: exponential with "equal jitter".

    The un-jittered delay is ``backoff_base_s * 2 ** (attempt - 1)`` capped at
    ``backoff_max_s``; the result is uniform in ``[delay / 2, delay]``.
    """
    exponent = min(max(attempt - 1, 0), 62)
    delay = min(options.backoff_max_s, options.backoff_base_s * (2.0**exponent))
    return delay / 2 + (rng or random).uniform(0, delay / 2)

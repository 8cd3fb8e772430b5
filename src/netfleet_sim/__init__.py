"""netfleet_sim: simulated network devices over real SSH, for tests, demos and benchmarks.

This package imports nothing from ``netfleet``.
"""

__all__: list[str] = []

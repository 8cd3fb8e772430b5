"""Shared pieces of the benchmark scripts (not a benchmark itself: CI runs ``benchmarks/*.py``)."""

"""Benchmarks against the goals in docs/benchmarks.md; run them all with ``python -m bench``."""

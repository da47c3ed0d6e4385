"""Reproducible benchmarks and the soak: `scripts/bench`, `scripts/soak`."""

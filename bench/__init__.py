"""Strata benchmarks: `make bench` (or `python -m bench`) prints a table of measured figures."""

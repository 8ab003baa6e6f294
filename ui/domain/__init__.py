"""Pure domain values and rules of ui: no I/O, no frameworks."""

"""Pure domain values and rules of monitoring: no I/O, no frameworks."""

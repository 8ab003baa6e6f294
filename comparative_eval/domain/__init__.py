"""Pure domain values and rules of comparative_eval: no I/O, no frameworks."""

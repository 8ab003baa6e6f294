"""Pure domain values and rules of data_lake: no I/O, no frameworks."""

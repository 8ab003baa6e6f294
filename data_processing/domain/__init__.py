"""Pure domain values and rules of data_processing: no I/O, no frameworks."""

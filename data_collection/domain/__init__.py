"""Pure domain values and rules of data_collection: no I/O, no frameworks."""

"""Pure domain values and rules of business_logic: no I/O, no frameworks."""

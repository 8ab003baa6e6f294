"""Pure domain values and rules of inference_engine: no I/O, no frameworks."""

"""Adapters of the inference engine's ports: one module per backend."""

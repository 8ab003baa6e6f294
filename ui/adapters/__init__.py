"""Adapters of the UI: one module per backend."""

"""Adapters of data_processing's ports: one module per backend."""

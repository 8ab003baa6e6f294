"""Adapters of data_collection's ports: one module per backend."""

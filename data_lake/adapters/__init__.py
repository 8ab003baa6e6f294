"""Backends of the data lake's ports: one module per backend."""

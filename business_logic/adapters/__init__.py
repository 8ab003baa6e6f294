"""Adapters of business_logic: one module per backend."""

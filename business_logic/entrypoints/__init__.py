"""Entrypoints of business_logic: the HTTP app and the CLI."""

"""Entrypoints of data_collection: the HTTP app and the CLI."""

"""Entrypoints of the inference engine: the HTTP app and the CLI."""

"""Entrypoints of the UI: the web app and the CLI."""

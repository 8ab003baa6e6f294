"""``python -m inference_engine <command>``."""

from inference_engine.entrypoints.cli import app

app()

"""``python -m inference_engine <command>``."""

from inference_engine.entrypoints.cli import app
from strata_kernel.cli import restrict_new_files

restrict_new_files()
app()

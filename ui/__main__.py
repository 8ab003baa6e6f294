"""``python -m ui <command>``."""

from strata_kernel.cli import restrict_new_files
from ui.entrypoints.cli import app

restrict_new_files()
if __name__ == "__main__":
    app()

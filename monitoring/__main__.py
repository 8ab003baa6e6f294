"""``python -m monitoring <command>``."""

from monitoring.entrypoints.cli import app
from strata_kernel.cli import restrict_new_files

restrict_new_files()
if __name__ == "__main__":
    app(prog_name="python -m monitoring")

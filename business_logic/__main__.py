"""``python -m business_logic <command>``."""

from business_logic.entrypoints.cli import app
from strata_kernel.cli import restrict_new_files

restrict_new_files()
if __name__ == "__main__":
    app()

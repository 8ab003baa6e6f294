"""``python -m data_collection <command>``."""

from data_collection.entrypoints.cli import app
from strata_kernel.cli import restrict_new_files

restrict_new_files()
if __name__ == "__main__":
    app(prog_name="python -m data_collection")

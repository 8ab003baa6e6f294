"""``python -m data_lake <command>``."""

from data_lake.entrypoints.cli import app
from strata_kernel.cli import restrict_new_files

restrict_new_files()
app(prog_name="data_lake")

from data_processing.entrypoints.cli import app
from strata_kernel.cli import restrict_new_files

restrict_new_files()
app(prog_name="python -m data_processing")

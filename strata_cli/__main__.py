from strata_cli.main import app
from strata_kernel.cli import restrict_new_files

restrict_new_files()
app()

"""``python -m data_lake <command>``."""

from data_lake.entrypoints.cli import app

app(prog_name="data_lake")

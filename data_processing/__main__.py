from data_processing.entrypoints.cli import app

app(prog_name="python -m data_processing")

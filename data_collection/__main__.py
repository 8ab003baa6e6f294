"""``python -m data_collection <command>``."""

from data_collection.entrypoints.cli import app

if __name__ == "__main__":
    app(prog_name="python -m data_collection")

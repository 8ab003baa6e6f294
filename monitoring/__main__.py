"""``python -m monitoring <command>``."""

from monitoring.entrypoints.cli import app

if __name__ == "__main__":
    app(prog_name="python -m monitoring")

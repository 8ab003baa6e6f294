"""``python -m ui <command>``."""

from ui.entrypoints.cli import app

if __name__ == "__main__":
    app()

"""``python -m business_logic <command>``."""

from business_logic.entrypoints.cli import app

if __name__ == "__main__":
    app()

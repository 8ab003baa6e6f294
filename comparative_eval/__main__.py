"""``python -m comparative_eval <command>``."""

from comparative_eval.entrypoints.cli import app

if __name__ == "__main__":
    app()

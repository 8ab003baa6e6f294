"""Commands of the UI: ``serve``."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

import typer

from strata_kernel.cli import one_line_errors
from ui.settings import Settings

app = typer.Typer(help="Strata UI: the delivery-time page.", no_args_is_help=True)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int | None, typer.Option(help="Port (default: from ui_url, 8000).")] = None,
    workers: Annotated[int, typer.Option(help="gunicorn worker processes.")] = 1,
) -> None:
    """Serve the page under gunicorn."""
    from strata_kernel.serving import serve as serve_app
    from ui.entrypoints.app import create_app

    with one_line_errors():
        settings = Settings()
        chosen_port = port or urlsplit(settings.ui_url).port or 8000
        serve_app(lambda: create_app(settings), host=host, port=chosen_port, workers=workers)


@app.callback()
def _main() -> None:
    """Strata UI."""

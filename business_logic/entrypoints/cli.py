"""Commands of business_logic: ``serve`` and ``load-catalog``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

import typer

from business_logic import services
from business_logic.settings import Settings
from strata_kernel.cli import one_line_errors

app = typer.Typer(help="Strata business logic: restaurants, menus and ETD quotes.", no_args_is_help=True)


@app.command("load-catalog")
def load_catalog(path: Annotated[Path, typer.Argument(help="Catalog JSON (format in docs/contracts.md).")]) -> None:
    """Validate a catalog file, then upsert its countries, cities, restaurants and menus in one transaction."""
    from business_logic.adapters.catalog_file import read_catalog_file
    from business_logic.adapters.sql_database import SqlDatabase

    with one_line_errors(f"load-catalog {path}"):
        settings = Settings()
        catalog = read_catalog_file(path)  # a bad file is refused before the database is touched
        database = SqlDatabase(settings.database_url)
        try:
            services.load_catalog(database.unit_of_work, catalog)
        finally:
            database.close()
    typer.echo(
        f"loaded {len(catalog.countries)} countries, {len(catalog.cities)} cities, "
        f"{len(catalog.restaurants)} restaurants, {catalog.menu_item_count} menu items"
    )


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int | None, typer.Option(help="Port (default: from business_logic_url, 8001).")] = None,
    workers: Annotated[int, typer.Option(help="gunicorn worker processes.")] = 1,
) -> None:
    """Serve the HTTP API under gunicorn."""
    from business_logic.entrypoints.app import create_app
    from strata_kernel.serving import serve as serve_app

    with one_line_errors():
        settings = Settings()
        chosen_port = port or urlsplit(settings.business_logic_url).port or 8001
        serve_app(lambda: create_app(settings), host=host, port=chosen_port, workers=workers)

"""Commands of business_logic: ``serve``, ``load-catalog``, ``load-help`` and ``publish-outbox``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

import typer

from business_logic import services
from business_logic.settings import Settings
from strata_kernel.cli import one_line_errors

#: imported by each gunicorn worker after the fork, never by a one-worker master (strata_kernel.serving.app_from)
APP_MODULE = "business_logic.entrypoints.app"

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


@app.command("load-help")
def load_help(
    path: Annotated[Path, typer.Argument(help="YAML list of {id, question, answer, article_url?}.")],
) -> None:
    """Validate a predefined-questions file, then make it the set of predefined questions (one transaction)."""
    from business_logic import help_services
    from business_logic.adapters.help_file import read_help_file
    from business_logic.adapters.sql_database import SqlDatabase

    with one_line_errors(f"load-help {path}"):
        settings = Settings()
        questions = read_help_file(path)  # a bad file is refused before the database is touched
        database = SqlDatabase(settings.database_url)
        try:
            added, updated, removed = help_services.load_predefined(database.unit_of_work, questions)
        finally:
            database.close()
    typer.echo(f"loaded {len(questions)} predefined questions ({added} added, {updated} updated, {removed} removed)")


@app.command("publish-outbox")
def publish_outbox() -> None:
    """Publish every waiting outbox event (help questions, feedback) to the event log once, then exit.

    Prints one JSON line {published, failed, pending, error}; exits 1 when the event log refused some.
    """
    import json

    from business_logic import help_services
    from business_logic.bootstrap import bootstrap, outbox_drain

    with one_line_errors("publish-outbox"):
        settings = Settings()
        deps = bootstrap(settings)
        try:
            # an operator's drain retries failed events now, without waiting for their retry delay
            result = outbox_drain(settings, deps, retry_now=True)()
            pending = help_services.pending_events(deps.uow_factory)
        finally:
            deps.close()
    summary = {"published": result.published, "failed": result.failed, "pending": pending, "error": result.error}
    typer.echo(json.dumps(summary))
    if result.error is not None:
        raise typer.Exit(1)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int | None, typer.Option(help="Port (default: from business_logic_url, 8001).")] = None,
    workers: Annotated[int, typer.Option(help="gunicorn worker processes.")] = 1,
) -> None:
    """Serve the HTTP API under gunicorn."""
    from strata_kernel.serving import app_from
    from strata_kernel.serving import serve as serve_app

    with one_line_errors():
        settings = Settings()
        chosen_port = port or urlsplit(settings.business_logic_url).port or 8001
        serve_app(app_from(APP_MODULE, settings), host=host, port=chosen_port, workers=workers,
                  preload_modules=(APP_MODULE,))  # fmt: skip

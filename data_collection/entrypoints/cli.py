"""``python -m data_collection simulate | collect | serve | crawl | land-heldout | serve-helpcentre``: parse, call a
service, print one JSON line."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer

from data_collection.settings import Settings
from strata_kernel.cli import one_line_errors
from strata_kernel.errors import BadRequest
from strata_kernel.logs import configure_logging

app = typer.Typer(
    add_completion=False, no_args_is_help=True, help="Order and help-centre data: simulate, collect, crawl, serve."
)
log = logging.getLogger(__name__)
DEFAULT_CATALOG = Path("var/demo/catalog.json")
DEFAULT_HELDOUT = Path(__file__).resolve().parents[1] / "helpcentre" / "heldout_questions.yaml"


def _load_settings() -> Settings:
    settings = Settings()
    configure_logging("data_collection", settings.log_level, settings.log_json)
    return settings


def _run(command: Callable[[], dict[str, Any] | None]) -> None:
    """Run a command and print its result as one JSON line; a failure is one line on stderr (strata_kernel.cli)."""
    with one_line_errors():
        result = command()
    if result is not None:
        typer.echo(json.dumps(result))


@app.command()
def simulate(
    size: Annotated[str, typer.Option(help="tiny (tests), small (demo) or full (>= 1M orders).")] = "small",
    seed: Annotated[int, typer.Option(help="Same seed, same events.")] = 7,
    catalog_out: Annotated[Path, typer.Option(help="Where to write the demo catalog.")] = DEFAULT_CATALOG,
    start_date: Annotated[str, typer.Option(help="First simulated day (YYYY-MM-DD).")] = "2025-01-06",
    end_date: Annotated[
        str | None,
        typer.Option(
            help="Last simulated day (YYYY-MM-DD); overrides --start-date. A history ending yesterday "
            "gives a demo served today fresh features."
        ),
    ] = None,
) -> None:
    """Generate a world and its orders; publish the order events and write the demo catalog."""

    def command() -> dict[str, Any]:
        from data_collection.services import publish_batches, write_json_atomically
        from data_collection.simulator import simulate as run_simulation
        from data_collection.simulator import size_named
        from data_collection.simulator.events import event_batches
        from strata_kernel.eventlog import open_event_log

        world_size = size_named(size)
        start = _parse_date(start_date, "start-date")
        if end_date is not None:
            start = _parse_date(end_date, "end-date") - timedelta(days=world_size.days - 1)
        settings = _load_settings()
        started = time.perf_counter()
        simulation = run_simulation(world_size, seed, start)
        write_json_atomically(catalog_out, simulation.world.catalog())
        event_log = open_event_log(settings)
        try:
            batches = event_batches(simulation.world, simulation.orders)
            published = publish_batches(event_log, batches, settings.publish_batch_events)
        finally:
            event_log.close()
        return {
            "size": world_size.name, "seed": seed, "orders": len(simulation.orders), "events": published,
            "restaurants": len(simulation.world.restaurant_names), "catalog": str(catalog_out),
            "seconds": round(time.perf_counter() - started, 2),
        }  # fmt: skip

    _run(command)


@app.command()
def collect(
    until_idle: Annotated[bool, typer.Option("--until-idle", help="Exit once every topic is drained.")] = False,
) -> None:
    """Move order and help-centre events from the event log into their raw tables (raw.order_placed,
    raw.order_delivered, raw.help_questions, raw.help_feedback)."""

    def command() -> dict[str, Any]:
        import threading

        from data_collection.bootstrap import bootstrap
        from data_collection.domain.events import TOPICS
        from data_collection.status import CollectorStatus

        settings = _load_settings()
        status = CollectorStatus(TOPICS)
        deps = bootstrap(settings)
        collector = deps.collector(observers=[status])
        started = time.perf_counter()
        try:
            if until_idle:
                collector.run_until_idle()
            else:
                deps.collector_loop(collector).run(threading.Event())  # until Ctrl-C
        except KeyboardInterrupt:
            pass
        finally:
            collector.close()
            deps.close()
        return {"topics": status.snapshot(), "seconds": round(time.perf_counter() - started, 2)}

    _run(command)


@app.command()
def serve(
    host: Annotated[str, typer.Option()] = "127.0.0.1",
    port: Annotated[int, typer.Option()] = 8005,
    workers: Annotated[int, typer.Option(help="Must be 1: the process hosts the one collector loop.")] = 1,
) -> None:
    """Serve the HTTP app and run the collector loop in the same process."""

    def command() -> None:
        from strata_kernel.serving import serve as run_server

        if workers != 1:
            raise BadRequest("--workers must be 1: each worker would run its own collector loop", field="workers")
        settings = _load_settings()
        run_server(lambda: _create_app(settings), host=host, port=port, workers=1)

    _run(command)


@app.command()
def crawl() -> None:
    """Crawl the help centre; land new or changed articles into raw.help_articles, reject bad pages with a reason."""

    def command() -> dict[str, Any]:
        from data_collection.bootstrap import bootstrap

        settings = _load_settings()
        started = time.perf_counter()
        summary = bootstrap(settings).help_crawl.run(settings.crawl_start(), settings.crawl_domains())
        return {**summary, "seconds": round(time.perf_counter() - started, 2)}

    _run(command)


@app.command("land-heldout")
def land_heldout(
    path: Annotated[Path, typer.Argument(help="Held-out questions (YAML list of {question_id, article_id, text}).")] = (
        DEFAULT_HELDOUT
    ),
) -> None:
    """Replace raw.help_heldout_questions with the held-out evaluation questions (never used for training)."""

    def command() -> dict[str, Any]:
        from datetime import UTC, datetime

        import yaml

        from data_collection.bootstrap import bootstrap
        from data_collection.help_services import land_heldout as land

        if not path.is_file():
            raise BadRequest(f"{path} is not a file", field="path")
        try:
            document = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise BadRequest(f"{path} is not valid YAML: {str(exc).splitlines()[0]}", field="path") from None
        settings = _load_settings()
        return land(bootstrap(settings).lake, document, source=path.name, today=datetime.now(UTC).date())

    _run(command)


@app.command("serve-helpcentre")
def serve_helpcentre(
    host: Annotated[str, typer.Option()] = "127.0.0.1",
    port: Annotated[int, typer.Option()] = 8007,
    workers: Annotated[int, typer.Option(min=1)] = 1,
    site_dir: Annotated[Path | None, typer.Option(help="Serve this site instead of the packaged demo.")] = None,
) -> None:
    """Serve the static demo help centre (the site `crawl` reads)."""

    def command() -> None:
        from data_collection.entrypoints.helpcentre_app import create_helpcentre_app
        from strata_kernel.serving import serve as run_server

        settings = _load_settings()
        create_helpcentre_app(settings, site_dir=site_dir)  # fail here, in one line, on a bad site directory
        run_server(lambda: create_helpcentre_app(settings, site_dir=site_dir), host=host, port=port, workers=workers)

    _run(command)


def _create_app(settings: Settings) -> Any:
    from data_collection.entrypoints.app import create_app

    return create_app(settings)


def _parse_date(value: str, option: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise BadRequest(f"expected YYYY-MM-DD, got {value!r}", field=option) from None

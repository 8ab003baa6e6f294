"""``python -m data_processing <command>``: batch jobs and the runtime service."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import urlparse

import typer

from data_processing.settings import COMPONENT, Settings
from strata_kernel.cli import one_line_errors
from strata_kernel.logs import configure_logging

if TYPE_CHECKING:  # the jobs' composition root is imported when a job runs: `serve`'s master never needs it
    from data_processing.bootstrap import Dependencies

#: imported by each gunicorn worker after the fork, never by a one-worker master (strata_kernel.serving.app_from)
APP_MODULE = "data_processing.entrypoints.app"

app = typer.Typer(help="Strata data_processing: Spark jobs, feature store, ETD runtime.", no_args_is_help=True)


def _run(job: Callable[[Dependencies], dict[str, Any]]) -> None:
    """Run a job on the composition root and print its result as one JSON line; a failure is one line on stderr
    (strata_kernel.cli)."""
    with one_line_errors():
        settings = Settings()
        configure_logging(COMPONENT, settings.log_level, settings.log_json)
        from data_processing.bootstrap import bootstrap

        deps = bootstrap(settings)
        try:
            result = job(deps)
        finally:
            deps.close()
    typer.echo(json.dumps(result, default=str))


@app.command("process-orders")
def process_orders() -> None:
    """raw.order_placed + raw.order_delivered -> processed.orders (Spark)."""

    def job(deps: Dependencies) -> dict[str, Any]:
        from data_processing.jobs.process_orders import run_process_orders

        return run_process_orders(deps.spark, deps.lake)

    _run(job)


@app.command("build-features")
def build_features(
    group: str,
    as_of: Annotated[
        datetime | None, typer.Option(help="Newest snapshot day to build (default: the day after the newest data).")
    ] = None,
) -> None:
    """Feature group -> features.<group> (offline) + a new online-store version of its newest rows."""

    def job(deps: Dependencies) -> dict[str, Any]:
        from data_processing.directory.jobs import record_availability, register_groups
        from data_processing.jobs.build_features import run_build_features

        registry = deps.feature_groups
        registry.get(group)  # fail fast on a typo, before Spark starts
        directory = deps.feature_directory
        register_groups(directory, deps.settings.resolved_feature_groups_dir(), datetime.now())  # refusals stop here
        store = deps.online_store
        built = run_build_features(deps.spark, deps.lake, registry, store, group, as_of=as_of)
        record_availability(directory, built, datetime.now())
        return built

    _run(job)


@app.command("training-set")
def training_set(model: str) -> None:
    """A declared model's spine, point-in-time joined with its features -> processed.<model>_training_set."""

    def job(deps: Dependencies) -> dict[str, Any]:
        from data_processing.directory.jobs import record_training_reads
        from data_processing.jobs.training_set import run_training_set
        from data_processing.models import load_model

        settings = deps.settings
        declared = load_model(model, deps.feature_groups, settings.resolved_model_specs_dir())
        engine = settings.pit_engine
        spark = None if engine == "local" else (lambda: deps.spark)  # started only if the join needs it
        threshold = None if engine == "spark" else settings.pit_spark_min_rows
        result = run_training_set(deps.lake, declared, spark=spark, spark_min_rows=threshold)
        return record_training_reads(deps.feature_directory, declared.feature_set, result, datetime.now())

    _run(job)


@app.command("join")
def join(
    spine: Annotated[Path, typer.Argument(help="The rows to enrich: a .csv or .parquet file.")],
    time: Annotated[
        str,
        typer.Option(
            "--time", metavar="COL[=ZONE]", help="The spine's time column; ZONE (IANA) when its values carry no offset."
        ),
    ],
    feature: Annotated[
        list[str],
        typer.Option(
            "--feature", metavar="@GROUP:FEATURE", help="A feature, or @GROUP for all of a group's. Repeatable."
        ),
    ],
    out: Annotated[Path, typer.Option(help="Where to write the joined rows (.parquet or .csv).")],
) -> None:
    """A one-off point-in-time join of a spine file against feature groups' offline tables (no model needed)."""

    def job(deps: Dependencies) -> dict[str, Any]:
        from data_processing.jobs.one_off_join import run_join

        column, _, zone = (part.strip() for part in time.partition("="))
        return run_join(deps.lake, deps.feature_groups, spine, time_column=column, zone=zone or None,
                        expressions=feature, out=out)  # fmt: skip

    _run(job)


@app.command("help-text")
def help_text() -> None:
    """raw.help_articles + raw.help_heldout_questions -> processed.help_articles / help_examples / help_heldout."""

    def job(deps: Dependencies) -> dict[str, Any]:
        from data_processing.jobs.help_text import run_help_text

        return run_help_text(deps.lake)

    _run(job)


@app.command("register-groups")
def register_groups() -> None:
    """Register every feature group under feature_groups_dir in the feature directory (refusals: exit 2)."""

    def job(deps: Dependencies) -> dict[str, Any]:
        from data_processing.directory.jobs import register_groups as register

        return register(deps.feature_directory, deps.settings.resolved_feature_groups_dir(), datetime.now())

    _run(job)


@app.command("deprecate-feature")
def deprecate_feature(
    feature: Annotated[str, typer.Argument(help="Canonical expression, e.g. @restaurant_stats:order_count_7d.")],
    reason: Annotated[str, typer.Option(help="Why, and what to use instead.")],
) -> None:
    """Mark a feature deprecated: every model and job that reads it is warned (those known from usage)."""

    def job(deps: Dependencies) -> dict[str, Any]:
        from data_processing.directory.services import deprecate_feature as deprecate

        return deprecate(deps.feature_directory, feature, reason, now=datetime.now())

    _run(job)


@app.command("validate-groups")
def validate_groups() -> None:
    """Load and validate every feature group definition (YAML + code file)."""

    def job(deps: Dependencies) -> dict[str, Any]:
        return {"feature_groups": deps.feature_groups.names()}

    _run(job)


@app.command()
def stream(
    group: str,
    idle_seconds: Annotated[
        float | None, typer.Option(help="Stop after this many seconds without events (default: run until SIGTERM).")
    ] = None,
    metrics_port: Annotated[
        int | None, typer.Option(help="Port of /healthz /readyz /metrics (default: stream_metrics_port; 0: none).")
    ] = None,
) -> None:
    """Near-real-time feature group: event log -> window state -> online store + features.<group> (lake)."""

    def job(deps: Dependencies) -> dict[str, Any]:
        from data_processing.entrypoints.stream_worker import run_worker

        port = deps.settings.stream_metrics_port if metrics_port is None else metrics_port
        return run_worker(deps, group, idle_seconds=idle_seconds, metrics_port=port)

    _run(job)


@app.command()
def serve(
    host: Annotated[str, typer.Option()] = "127.0.0.1",
    port: Annotated[int | None, typer.Option(help="Default: the port of data_processing_url (8002).")] = None,
    workers: Annotated[int, typer.Option()] = 1,
) -> None:
    """Serve the ETD runtime API under gunicorn."""
    from strata_kernel.serving import app_from
    from strata_kernel.serving import serve as serve_app

    with one_line_errors():
        settings = Settings()
        default_port = urlparse(settings.data_processing_url).port or 8002
        serve_app(app_from(APP_MODULE), host=host, port=port or default_port, workers=workers,
                  preload_modules=(APP_MODULE,))  # fmt: skip

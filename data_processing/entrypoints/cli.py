"""``python -m data_processing <command>``: batch jobs and the runtime service."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlparse

import typer

from data_processing.bootstrap import COMPONENT
from data_processing.settings import Settings
from strata_kernel.cli import one_line_errors
from strata_kernel.logs import configure_logging

app = typer.Typer(help="Strata data_processing: Spark jobs, feature store, ETD runtime.", no_args_is_help=True)


def _run(job: Callable[[Settings], dict[str, Any]]) -> None:
    """Run a job and print its result as one JSON line; a failure is one line on stderr (strata_kernel.cli)."""
    with one_line_errors():
        settings = Settings()
        configure_logging(COMPONENT, settings.log_level, settings.log_json)
        result = job(settings)
    typer.echo(json.dumps(result, default=str))


@app.command("process-orders")
def process_orders() -> None:
    """raw.order_placed + raw.order_delivered -> processed.orders (Spark)."""

    def job(settings: Settings) -> dict[str, Any]:
        from data_processing.adapters.spark import build_spark_session
        from data_processing.bootstrap import build_lake
        from data_processing.jobs.process_orders import run_process_orders

        return run_process_orders(build_spark_session(settings), build_lake(settings))

    _run(job)


@app.command("build-features")
def build_features(
    group: str,
    as_of: Annotated[
        datetime | None, typer.Option(help="Newest snapshot day to build (default: the day after the newest data).")
    ] = None,
) -> None:
    """Feature group -> features.<group> (offline) + a new online-store version of its newest rows."""

    def job(settings: Settings) -> dict[str, Any]:
        from data_processing.adapters.spark import build_spark_session
        from data_processing.bootstrap import build_lake, build_online_store, build_registry
        from data_processing.jobs.build_features import run_build_features

        registry = build_registry(settings)
        registry.get(group)  # fail fast on a typo, before Spark starts
        store = build_online_store(settings)
        spark = build_spark_session(settings)
        return run_build_features(spark, build_lake(settings), registry, store, group, as_of=as_of)

    _run(job)


@app.command("training-set")
def training_set(model: str) -> None:
    """Point-in-time join of processed.orders with the model's features -> processed.<model>_training_set."""

    def job(settings: Settings) -> dict[str, Any]:
        from data_processing.bootstrap import build_lake, build_registry
        from data_processing.domain.etd_features import ETD_FEATURE_SET
        from data_processing.jobs.training_set import run_training_set

        feature_sets = {ETD_FEATURE_SET.model: ETD_FEATURE_SET}
        if model not in feature_sets:
            raise ValueError(f"unknown model {model!r} (known: {', '.join(feature_sets)})")
        return run_training_set(build_lake(settings), build_registry(settings), feature_sets[model])

    _run(job)


@app.command("validate-groups")
def validate_groups() -> None:
    """Load and validate every feature group definition (YAML + code file)."""

    def job(settings: Settings) -> dict[str, Any]:
        from data_processing.bootstrap import build_registry

        return {"feature_groups": build_registry(settings).names()}

    _run(job)


@app.command()
def serve(
    host: Annotated[str, typer.Option()] = "127.0.0.1",
    port: Annotated[int | None, typer.Option(help="Default: the port of data_processing_url (8002).")] = None,
    workers: Annotated[int, typer.Option()] = 1,
) -> None:
    """Serve the ETD runtime API under gunicorn."""
    from data_processing.entrypoints.app import create_app
    from strata_kernel.serving import serve as serve_app

    with one_line_errors():
        settings = Settings()
        default_port = urlparse(settings.data_processing_url).port or 8002
        serve_app(create_app, host=host, port=port or default_port, workers=workers)

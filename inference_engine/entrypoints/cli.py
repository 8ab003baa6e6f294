"""Commands: ``train``, ``deploy`` and ``serve``. Each exits 0 on success, else non-zero with one line of why."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from inference_engine.settings import Settings
from strata_kernel.cli import BAD_INPUT, fail, one_line_errors
from strata_kernel.logs import configure_logging

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Strata inference engine.")


def _settings() -> Settings:
    settings = Settings()
    configure_logging("inference_engine", settings.log_level, settings.log_json)
    return settings


@app.command()
def train(model: Annotated[str, typer.Argument(help="Model to train, e.g. etd.")]) -> None:
    """Train on the lake's training set, evaluate on the last holdout_days, register a new version."""
    from inference_engine.bootstrap import build_registry, build_training_data, training_options
    from inference_engine.training import train_model

    with one_line_errors():
        settings = _settings()
        summary = train_model(
            model, build_training_data(settings), build_registry(settings), training_options(settings)
        )
    typer.echo(json.dumps(summary))


@app.command()
def deploy(
    model: Annotated[str, typer.Argument(help="Registered model name, e.g. etd.")],
    version: Annotated[int | None, typer.Option("--version", help="Version to serve.")] = None,
    latest: Annotated[bool, typer.Option("--latest", help="Serve the newest version.")] = False,
) -> None:
    """Point the serving alias (production) at a version; running servers pick it up on reload."""
    from inference_engine.bootstrap import build_registry

    if (version is None) == (not latest):
        fail("give exactly one of --version N or --latest", BAD_INPUT)
    with one_line_errors():
        settings = _settings()
        registry = build_registry(settings)
        chosen = version if version is not None else registry.latest_version(model).version
        registry.set_alias(model, settings.serving_alias, chosen)
    typer.echo(json.dumps({"model": model, "version": chosen, "alias": settings.serving_alias}))


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Interface to bind.")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default 8003).")] = None,
    workers: Annotated[int | None, typer.Option(help="Gunicorn worker processes.")] = None,
) -> None:
    """Serve the HTTP API under gunicorn; each worker loads the models itself after the fork."""
    from strata_kernel.serving import serve as run_server

    with one_line_errors():
        settings = _settings()

        def factory() -> Any:
            from inference_engine.entrypoints.app import create_app

            return create_app(settings)

        run_server(
            factory,
            host=host or settings.host,
            port=port or settings.port,
            workers=workers or settings.workers,
            threads=settings.threads,
        )

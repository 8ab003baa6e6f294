"""Commands: ``train``, ``deploy`` and ``serve``. Each exits 0 on success, else non-zero with one line of why."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import TYPE_CHECKING, Annotated, Any

import typer

from inference_engine.settings import Settings

if TYPE_CHECKING:
    from inference_engine.bootstrap import Dependencies
from strata_kernel.cli import BAD_INPUT, fail, one_line_errors
from strata_kernel.logs import configure_logging

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Strata inference engine.")


def _settings() -> Settings:
    settings = Settings()
    configure_logging("inference_engine", settings.log_level, settings.log_json)
    return settings


@app.command()
def train(
    model: Annotated[str, typer.Argument(help="Model to train, e.g. etd.")],
    no_partitions: Annotated[
        bool, typer.Option("--no-partitions", help="Train one global model even if the model has a partition spec.")
    ] = False,
    fresh: Annotated[
        bool, typer.Option("--fresh", help="Partitioned: discard an interrupted run instead of resuming it.")
    ] = False,
    param: Annotated[
        list[str] | None,
        typer.Option(
            "--param",
            metavar="KEY=VALUE",
            help="Global XGBoost model only (with --no-partitions for a model with a spec): override a "
            "hyperparameter, repeatable; n_estimators, max_depth, learning_rate, min_child_weight, subsample, "
            "colsample_bytree, reg_lambda. Drills use it to register a deliberately worse candidate.",
        ),
    ] = None,
) -> None:
    """Train on the lake's training set, evaluate on the last holdout_days, register a new version.

    A model with a partition spec (model_specs/<model>.yaml) trains one model per node of its hierarchy on
    Spark; the report table goes to stderr, the summary JSON line to stdout. ``helpbot`` trains the help-centre
    chatbot (TensorFlow) on processed.help_examples and evaluates it on processed.help_heldout.
    """
    from inference_engine.bootstrap import bootstrap, training_options
    from inference_engine.helpbot.options import MODEL_NAME as HELPBOT
    from inference_engine.partitioning.spec import has_spec, monitoring_spec
    from inference_engine.training import parse_param_overrides, train_model

    with one_line_errors():
        settings = _settings()
        deps = bootstrap(settings)
        if param and (model == HELPBOT or (not no_partitions and has_spec(model, settings.model_specs_dir))):
            fail("--param applies to the global XGBoost model only: add --no-partitions (not for helpbot)", BAD_INPUT)
        if model == HELPBOT:
            summary = _train_helpbot(deps)
        elif not no_partitions and has_spec(model, settings.model_specs_dir):
            summary = _train_partitioned(model, deps, fresh)
        else:
            options = training_options(settings, parse_param_overrides(param or []))
            options = replace(options, monitoring=monitoring_spec(model, settings.model_specs_dir))
            summary = train_model(model, deps.training_data, deps.registry, options)
    typer.echo(json.dumps(summary))


def _train_helpbot(deps: Dependencies) -> dict[str, Any]:
    """The help-centre chatbot (TensorFlow): its own tables and options (inference_engine/helpbot/options.py)."""
    from inference_engine.helpbot.options import HelpbotOptions
    from inference_engine.helpbot.training import train_helpbot

    return train_helpbot(deps.training_data, deps.registry, HelpbotOptions(seed=deps.settings.seed))


def _train_partitioned(model: str, deps: Dependencies, fresh: bool) -> dict[str, Any]:
    from inference_engine.bootstrap import partitioned_options
    from inference_engine.partitioning.report import print_table
    from inference_engine.partitioning.spark import build_spark_session
    from inference_engine.partitioning.spec import load_spec
    from inference_engine.partitioning.training import train_partitioned

    settings = deps.settings
    result = train_partitioned(
        load_spec(model, settings.model_specs_dir),
        deps.training_data,
        deps.registry,
        lambda: build_spark_session(settings),
        partitioned_options(settings, fresh=fresh),
    )
    print_table(result["report"], stderr=True)
    summary: dict[str, Any] = result["summary"]
    return summary


@app.command()
def tree(
    model: Annotated[str, typer.Argument(help="Partitioned model, e.g. etd.")],
    version: Annotated[int | None, typer.Option("--version", help="Version (default: the serving alias).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON instead of a table.")] = False,
) -> None:
    """Print the node tree of a partitioned model: status, rows, metric vs parent, who serves each node."""
    from inference_engine.bootstrap import bootstrap
    from inference_engine.partitioning.report import print_table
    from inference_engine.partitioning.tree_view import registered_tree

    with one_line_errors():
        settings = _settings()
        report = registered_tree(bootstrap(settings).registry, model, version, settings.serving_alias,
                                 settings.var_dir / "inference_engine" / "downloads")  # fmt: skip
    if as_json:
        typer.echo(json.dumps(report))
    else:
        print_table(report)


@app.command()
def deploy(
    model: Annotated[str, typer.Argument(help="Registered model name, e.g. etd.")],
    version: Annotated[int | None, typer.Option("--version", help="Version to serve.")] = None,
    latest: Annotated[bool, typer.Option("--latest", help="Serve the newest version.")] = False,
) -> None:
    """Point the serving alias (production) at a version; running servers pick it up on reload."""
    from inference_engine.bootstrap import bootstrap

    if (version is None) == (not latest):
        fail("give exactly one of --version N or --latest", BAD_INPUT)
    with one_line_errors():
        settings = _settings()
        registry = bootstrap(settings).registry
        chosen = version if version is not None else registry.latest_version(model).version
        registry.set_alias(model, settings.serving_alias, chosen)
    typer.echo(json.dumps({"model": model, "version": chosen, "alias": settings.serving_alias}))


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Interface to bind.")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default 8003).")] = None,
    workers: Annotated[int | None, typer.Option(help="Gunicorn worker processes.")] = None,
) -> None:
    """Serve the HTTP API under gunicorn; each worker loads the models itself after the fork.

    The heavy modules (MLflow, XGBoost, the runtimes) are imported once, in gunicorn's master before the fork,
    so the workers share them instead of importing them each (~10 s and ~250 MB a worker, measured).
    """
    from strata_kernel.serving import serve as run_server

    with one_line_errors():
        settings = _settings()
        settings = settings.model_copy(update={"workers": workers or settings.workers})

        def factory() -> Any:
            from inference_engine.entrypoints.app import create_app

            return create_app(settings)

        run_server(
            factory,
            host=host or settings.host,
            port=port or settings.port,
            workers=settings.workers,
            threads=settings.threads,
            preload_modules=PRELOADED_MODULES,
        )


#: imported by gunicorn's master before it forks the workers (code only: no engine, client or model)
PRELOADED_MODULES = (
    "inference_engine.entrypoints.app",
    "inference_engine.adapters.mlflow_registry",
    "mlflow",  # the adapter imports it on first use
    "mlflow.artifacts",
    "inference_engine.runtimes.partitioned_runtime",
    "inference_engine.runtimes.xgboost_runtime",
    "inference_engine.runtimes.tensorflow_runtime",
)

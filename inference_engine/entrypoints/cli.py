"""Commands: ``train``, ``deploy`` and ``serve``. Each exits 0 on success, else non-zero with one line of why."""

from __future__ import annotations

import json
from pathlib import Path
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
    model: Annotated[str, typer.Argument(help="A declared model (model_specs/<model>.yaml), e.g. etd; or helpbot.")],
    no_partitions: Annotated[
        bool, typer.Option("--no-partitions", help="Train the root (global) model only, even if it is partitioned.")
    ] = False,
    fresh: Annotated[bool, typer.Option("--fresh", help="Discard an interrupted run instead of resuming it.")] = False,
    param: Annotated[
        list[str] | None,
        typer.Option(
            "--param",
            metavar="KEY=VALUE",
            help="XGBoost models: override a hyperparameter of the declaration, repeatable; n_estimators, max_depth, "
            "learning_rate, min_child_weight, subsample, colsample_bytree, reg_lambda. Drills use it to register a "
            "deliberately worse candidate.",
        ),
    ] = None,
    table_version: Annotated[
        int | None,
        typer.Option(
            "--table-version",
            min=1,
            help="Declared models: read this version of the training set (default "
            "the latest), e.g. to rebuild a version from the rows it was trained on.",
        ),
    ] = None,
) -> None:
    """Train a declared model on its training set, evaluate it on its hold-out window, register a new version.

    A partitioned model trains one model per node of its hierarchy on Spark; one without partitions (or with
    --no-partitions) trains in this process. The report table goes to stderr, the summary JSON line to stdout.
    ``helpbot`` trains the help-centre chatbot (TensorFlow) on processed.help_examples.
    """
    from inference_engine.bootstrap import bootstrap
    from inference_engine.helpbot.options import MODEL_NAME as HELPBOT

    with one_line_errors():
        settings = _settings()
        deps = bootstrap(settings)
        if model == HELPBOT:
            if param or table_version is not None:
                fail(f"{'--param' if param else '--table-version'} does not apply to helpbot", BAD_INPUT)
            summary = _train_helpbot(deps)
        else:
            summary = _train_declared(model, deps, fresh=fresh, global_only=no_partitions, params=param or [],
                                      table_version=table_version)  # fmt: skip
    typer.echo(json.dumps(summary))


def _train_helpbot(deps: Dependencies) -> dict[str, Any]:
    """The help-centre chatbot (TensorFlow): its own tables and options (inference_engine/helpbot/options.py)."""
    from inference_engine.helpbot.options import HelpbotOptions
    from inference_engine.helpbot.training import train_helpbot

    return train_helpbot(deps.training_data, deps.registry, HelpbotOptions(seed=deps.settings.seed))


def _train_declared(
    model: str, deps: Dependencies, *, fresh: bool, global_only: bool, params: list[str], table_version: int | None
) -> dict[str, Any]:
    from inference_engine.bootstrap import partitioned_options
    from inference_engine.partitioning.report import print_table
    from inference_engine.partitioning.spark import build_spark_session
    from inference_engine.training import train_declared

    settings = deps.settings
    result = train_declared(model, settings.resolved_model_specs_dir(), deps.training_data, deps.registry,
                            lambda: build_spark_session(settings), partitioned_options(settings, fresh=fresh),
                            global_only=global_only, params=params, table_version=table_version)  # fmt: skip
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


@app.command("version-info")
def version_info(
    model: Annotated[str, typer.Argument(help="Registered model name, e.g. etd.")],
    version: Annotated[int, typer.Option("--version", help="Registered version.")],
) -> None:
    """A registered version's framework and tags (its provenance among them), as one JSON line."""
    from inference_engine.bootstrap import bootstrap
    from strata_kernel.errors import StrataError
    from strata_kernel.provenance import LOCK_DOCUMENT

    with one_line_errors():
        registry = bootstrap(_settings()).registry
        found = registry.version(model, version)
        try:
            lock = registry.document(found, LOCK_DOCUMENT)  # type: ignore[attr-defined]  # MlflowRegistry
        except StrataError:
            lock = None  # trained before the lock was kept, or its run's files are gone
    typer.echo(json.dumps({"model": model, "version": found.version, "framework": found.framework,
                           "tags": found.tags, "dvc_lock": lock}))  # fmt: skip


RebuiltVar = Annotated[
    Path, typer.Option("--rebuilt-var", help="var/ of the reproduction: its registry holds the rebuild (newest).")
]


@app.command()
def compare(
    model: Annotated[str, typer.Argument(help="Registered model name, e.g. etd.")],
    version: Annotated[int, typer.Option("--version", help="The registered version the rebuild should equal.")],
    rebuilt_var: RebuiltVar,
) -> None:
    """Compare a rebuild with a registered version: bytes identical, predictions identical, or different (why)."""
    import tempfile

    from inference_engine.reproduction import compare as compare_versions
    from inference_engine.reproduction import latest_rebuild

    with one_line_errors(), tempfile.TemporaryDirectory(prefix="compare-") as scratch:
        settings = _settings()
        registry = _registry(settings)
        rebuild = latest_rebuild(_registry(_rebuilt_settings(settings, rebuilt_var)), model, Path(scratch) / "rebuilt")
        verdict = compare_versions(registry, registry, model, version, rebuild, Path(scratch))
    typer.echo(json.dumps(verdict))


@app.command()
def adopt(
    model: Annotated[str, typer.Argument(help="Registered model name, e.g. etd.")],
    reproduces: Annotated[int, typer.Option("--reproduces", help="The version the rebuild reproduces.")],
    rebuilt_var: RebuiltVar,
) -> None:
    """Register a reproduction's rebuild as a new version (tag reproduces_version) in this registry."""
    import tempfile

    from inference_engine.reproduction import adopt as adopt_rebuild
    from inference_engine.reproduction import latest_rebuild

    with one_line_errors(), tempfile.TemporaryDirectory(prefix="adopt-") as scratch:
        settings = _settings()
        source = _registry(_rebuilt_settings(settings, rebuilt_var))
        rebuild = latest_rebuild(source, model, Path(scratch))
        published = adopt_rebuild(_registry(settings), rebuild, source, reproduces)
    typer.echo(json.dumps({"model": model, "version": published.version, "reproduces_version": reproduces}))


def _registry(settings: Settings) -> Any:
    from inference_engine.bootstrap import bootstrap

    return bootstrap(settings).registry


def _rebuilt_settings(settings: Settings, rebuilt_var: Path) -> Settings:
    """The reproduction's own embedded registry (under its var/), whatever registry this process is set to."""
    if not rebuilt_var.is_dir():
        fail(f"--rebuilt-var {rebuilt_var} is not a directory", BAD_INPUT)
    return settings.model_copy(update={"var_dir": rebuilt_var, "mlflow_tracking_uri": None,
                                       "mlflow_artifact_root": None})  # fmt: skip


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Interface to bind.")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default 8003).")] = None,
    workers: Annotated[int | None, typer.Option(help="Gunicorn worker processes.")] = None,
) -> None:
    """Serve the HTTP API under gunicorn; each worker loads the models itself after the fork.

    With several workers the heavy modules (MLflow, XGBoost, the runtimes) are imported once, in gunicorn's
    master before the fork, so the workers share them instead of importing them each (~10 s and ~250 MB a worker,
    measured); with one worker (the default) the master imports none of them.
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

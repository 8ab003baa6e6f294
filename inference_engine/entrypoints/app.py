"""HTTP API of the inference engine (docs/contracts.md): list models, predict, route to a version, reload,
and the routing between stable and candidate versions (apply, read, validate a version)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from apiflask import APIFlask
from flask import request

from inference_engine import catalog
from inference_engine.bootstrap import bootstrap
from inference_engine.domain.routing import RoutingRecord
from inference_engine.entrypoints.reference_api import register_reference_routes
from inference_engine.errors import InvalidInstances, VersionNotFound
from inference_engine.loading import LoadProgress, Readiness, WorkerBoard
from inference_engine.ports import ModelRegistry
from inference_engine.serving import Predictor, RoutingTable
from inference_engine.settings import Settings
from strata_kernel import background
from strata_kernel.access import callers
from strata_kernel.contracts import headers
from strata_kernel.contracts.auth import OPERATOR
from strata_kernel.contracts.wire import version_number
from strata_kernel.lean import LeanView, install_lean_routes
from strata_kernel.logs import request_id_var
from strata_kernel.service import add_readiness_check, create_service_app, set_progress_report
from strata_kernel.serving import add_shutdown_callback


def create_app(settings: Settings | None = None, **overrides: Any) -> APIFlask:
    """Build the app; models load in a background loop so /healthz answers at once and /readyz waits.

    ``overrides`` go to :func:`inference_engine.bootstrap.bootstrap` (``registry``, ``runtime_factory``,
    ``prediction_log``, ``routing_source``, ...). The loops (model loading; polling comparative_eval when
    ``routing_poll_seconds > 0``) are registered, not started: the server starts them after the fork.
    """
    settings = settings if settings is not None else Settings()
    app = create_service_app("inference_engine", title="Strata inference engine", callers=settings.caller_directory())
    deps = bootstrap(settings, metrics_registry=app.extensions["strata.registry"], **overrides)
    table, predictor = deps.routing_table, deps.predictor
    app.extensions["inference_engine.deps"] = deps
    app.extensions["inference_engine.prediction_log"] = deps.prediction_log
    # several gunicorn workers: readiness is every worker's (any one of them answers /readyz)
    board = WorkerBoard.for_master(settings.var_dir / "run", settings.workers) if settings.workers > 1 else None
    progress = LoadProgress(len(table.model_names), board)
    readiness = Readiness(table, progress, board)
    add_readiness_check(app, readiness.problem)
    set_progress_report(app, readiness.report)
    # a worker that exits (SIGTERM, or its master gone) publishes every prediction it logged before it goes
    add_shutdown_callback(app, deps.prediction_log.close)
    _register_routes(app, table, predictor)
    _register_catalog_routes(app, table, deps.registry)
    _register_routing_routes(app, table, predictor)
    register_reference_routes(app, deps.reference_profiles)
    for loop in deps.background_loops(progress):
        background.register(app, loop)
    # the hot path of every quote and question; a version's route serves comparative evaluation's replays
    install_lean_routes(app, {"predict": _lean_predict(predictor), "predict_version": _lean_predict_version(predictor)})
    return app


def _register_routes(app: APIFlask, table: RoutingTable, predictor: Predictor) -> None:
    @app.get("/v1/models")
    @app.doc(tags=["models"], summary="Models being served, with version, alias and features.")
    def list_models() -> dict[str, Any]:
        return {"models": [model.to_dict() for model in table.list_models()]}

    @app.get("/v1/models/<name>")
    @app.doc(tags=["models"], summary="One served model.", responses=[404])
    def describe_model(name: str) -> dict[str, Any]:
        return table.describe(name).to_dict()

    @app.post("/v1/models/<name>/predict")
    @callers("data_processing", OPERATOR)
    @app.doc(
        tags=["models"],
        summary="Score 1..1000 instances with the version the model's routing picks (the production alias when "
        "no routing record applies); header X-Routing-Key keys the canary split (default: the request id).",
        responses=[400, 404, 503],
    )
    def predict(name: str) -> dict[str, Any]:
        return _predict(predictor, name, request.get_json(silent=True), request.headers.get)

    @app.post("/v1/models/<name>/versions/<version>/predict")
    @callers("data_processing", "comparative_eval", OPERATOR)
    @app.doc(tags=["models"], summary="Score with one registered version (loaded on demand).", responses=[400, 404])
    def predict_version(name: str, version: str) -> dict[str, Any]:
        return _predict_version(predictor, name, version, request.get_json(silent=True), request.headers.get)

    @app.get("/v1/models/<name>/tree")
    @app.doc(
        tags=["models"],
        summary="The node tree of a partitioned model (?version=N, default the served one): status, rows, "
        "metric vs parent and who serves each node.",
        responses=[404],
    )
    def model_tree(name: str) -> dict[str, Any]:
        version = request.args.get("version")
        return table.tree(name, None if version is None else _version_number(name, version))

    @app.post("/v1/models/<name>/reload")
    @callers(OPERATOR)
    @app.doc(
        tags=["models"],
        summary="Re-read the production alias and hot-swap the model (409 while a routing record applies).",
        responses=[404, 409],
    )
    def reload_model(name: str) -> dict[str, Any]:
        return table.reload(name).to_dict()


def _predict(predictor: Predictor, name: str, body: Any, header: Callable[[str], str | None]) -> dict[str, Any]:
    """``POST /v1/models/<name>/predict``, through Flask or lean (``_lean_predict``)."""
    key = header(headers.ROUTING_KEY)
    if key is not None and len(key) > headers.MAX_ROUTING_KEY_CHARS:
        raise InvalidInstances(f"{headers.ROUTING_KEY} must be at most {headers.MAX_ROUTING_KEY_CHARS} characters",
                               field=headers.ROUTING_KEY)  # fmt: skip
    return predictor.predict(
        name, body, routing_key=key, request_id=request_id_var.get(), vectoriser=header(headers.VECTORISER)
    ).to_dict()


def _predict_version(
    predictor: Predictor, name: str, version: str, body: Any, header: Callable[[str], str | None]
) -> dict[str, Any]:
    """``POST /v1/models/<name>/versions/<version>/predict``, through Flask or lean."""
    number = _version_number(name, version)
    return predictor.predict(name, body, number, vectoriser=header(headers.VECTORISER)).to_dict()


def _lean_predict(predictor: Predictor) -> LeanView:
    return lambda call: _predict(predictor, call.args["name"], call.body, call.header)


def _lean_predict_version(predictor: Predictor) -> LeanView:
    return lambda call: _predict_version(predictor, call.args["name"], call.args["version"], call.body, call.header)


def _register_catalog_routes(app: APIFlask, table: RoutingTable, registry: ModelRegistry) -> None:
    @app.get("/v1/models/<name>/versions")
    @app.doc(
        tags=["models"],
        summary="Every registered version, newest first: framework, aliases, held-out metrics, MLflow run; and "
        "which one serves. Registered models only (404 otherwise); nothing is loaded.",
        responses=[404],
    )
    def model_versions(name: str) -> dict[str, Any]:
        serving = next((m for m in table.list_models() if m.name == name), None)
        return catalog.model_versions(registry, name, serving)


def _register_routing_routes(app: APIFlask, table: RoutingTable, predictor: Predictor) -> None:
    @app.put("/v1/models/<name>/routing")
    @callers("comparative_eval", OPERATOR)
    @app.doc(
        tags=["routing"],
        summary="Apply a routing record (Authorization: Bearer <operator token>): every version it needs is "
        "loaded and warmed before the swap; a revision not above the applied one is ignored.",
        responses=[400, 401, 403, 404, 422, 503],
    )
    def put_routing(name: str) -> dict[str, Any]:
        table.apply_routing(RoutingRecord.from_wire(request.get_json(silent=True), name))
        return table.routing(name)

    @app.get("/v1/models/<name>/routing")
    @app.doc(tags=["routing"], summary="The applied routing record and applied_at (or the alias's).", responses=[404])
    def get_routing(name: str) -> dict[str, Any]:
        return table.routing(name)

    @app.post("/v1/models/<name>/versions/<version>/validate")
    @callers("comparative_eval", OPERATOR)
    @app.doc(
        tags=["routing"],
        summary="Would this version serve? It loads, needs no feature the serving version's requests lack, and "
        "scores every instance finitely within latency_budget_ms (p99). Changes no routing.",
        responses=[400, 404],
    )
    def validate_version(name: str, version: str) -> dict[str, Any]:
        return predictor.validate(name, _version_number(name, version), request.get_json(silent=True))


def _version_number(name: str, version: str) -> int:
    number = version_number(version)
    if number is None:
        raise VersionNotFound(f"model {name} has no version {version!r} (versions are positive integers)")
    return number

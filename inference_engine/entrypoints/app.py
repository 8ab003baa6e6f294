"""HTTP API of the inference engine (docs/contracts.md): list models, predict, route to a version, reload."""

from __future__ import annotations

from typing import Any

from apiflask import APIFlask
from flask import request

from inference_engine.bootstrap import build_model_service
from inference_engine.errors import VersionNotFound
from inference_engine.metrics import PredictionMetrics
from inference_engine.runtimes.partitioned_runtime import create_runtime_with_partitions
from inference_engine.services import BackgroundLoader, ModelService
from inference_engine.settings import Settings
from strata_kernel.service import add_readiness_check, create_service_app


def create_app(settings: Settings | None = None, **overrides: Any) -> APIFlask:
    """Build the app; models load in a background thread so /healthz answers at once and /readyz waits.

    Overrides: ``registry`` (a ModelRegistry, e.g. a fake), ``runtime_factory``, ``load_in_background``.
    """
    settings = settings if settings is not None else Settings()
    app = create_service_app("inference_engine", title="Strata inference engine")
    metrics = PredictionMetrics.create(app.extensions["strata.registry"])
    service = build_model_service(
        settings,
        registry=overrides.get("registry"),
        runtime_factory=overrides.get("runtime_factory", create_runtime_with_partitions),
        observer=metrics.observe,
    )
    app.extensions["inference_engine.service"] = service
    add_readiness_check(app, service.readiness_problem)
    _register_routes(app, service)
    loader = BackgroundLoader(service, settings.load_retry_seconds)
    app.extensions["inference_engine.loader"] = loader
    if overrides.get("load_in_background", True):
        loader.start()
    return app


def _register_routes(app: APIFlask, service: ModelService) -> None:
    @app.get("/v1/models")
    @app.doc(tags=["models"], summary="Models being served, with version, alias and features.")
    def list_models() -> dict[str, Any]:
        return {"models": [model.to_dict() for model in service.list_models()]}

    @app.get("/v1/models/<name>")
    @app.doc(tags=["models"], summary="One served model.", responses=[404])
    def describe_model(name: str) -> dict[str, Any]:
        return service.describe(name).to_dict()

    @app.post("/v1/models/<name>/predict")
    @app.doc(
        tags=["models"], summary="Score 1..1000 instances with the serving (production) version.", responses=[400, 404]
    )
    def predict(name: str) -> dict[str, Any]:
        return service.predict(name, request.get_json(silent=True)).to_dict()

    @app.post("/v1/models/<name>/versions/<version>/predict")
    @app.doc(tags=["models"], summary="Score with one registered version (loaded on demand).", responses=[400, 404])
    def predict_version(name: str, version: str) -> dict[str, Any]:
        return service.predict(name, request.get_json(silent=True), _version_number(name, version)).to_dict()

    @app.get("/v1/models/<name>/tree")
    @app.doc(
        tags=["models"],
        summary="The node tree of a partitioned model (?version=N, default the served one): status, rows, "
        "metric vs parent and who serves each node.",
        responses=[404],
    )
    def model_tree(name: str) -> dict[str, Any]:
        version = request.args.get("version")
        return service.tree(name, None if version is None else _version_number(name, version))

    @app.post("/v1/models/<name>/reload")
    @app.doc(tags=["models"], summary="Re-read the production alias and hot-swap the model.", responses=[404])
    def reload_model(name: str) -> dict[str, Any]:
        return service.reload(name).to_dict()


def _version_number(name: str, version: str) -> int:
    if not version.isdigit() or int(version) < 1:
        raise VersionNotFound(f"model {name} has no version {version!r} (versions are positive integers)")
    return int(version)

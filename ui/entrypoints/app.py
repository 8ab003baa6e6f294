"""The ETD web page and the small JSON relay it talks to (``/api/*`` -> business_logic, unchanged).

The UI serves the *business* flow and talks to business_logic only — with one exception, for data
scientists rather than customers: the feature directory page ``/features`` reads data_processing's
directory API (``/api/feature-groups*``, ``/api/features/*`` relayed unchanged to ``data_processing_url``),
over HTTP through the FeatureDirectory port like every other call. The ETD page never touches it.

The customers' help page ``/help`` (ui.entrypoints.help_pages) talks to business_logic's help API only.

So the customer-facing ETD page (``/``) talks only to business_logic, while the operator pages read the ML
layers' own APIs: ``/features`` data_processing's directory, ``/models`` and ``/models/<name>`` the inference
engine's models, versions and partition tree (``/api/models*`` through the ModelTrees port) and comparative_eval's
deployment history (``/api/deployments/<name>/history`` through the Deployments port), and ``/lake[/<table>]`` the
data lake's profiles, diffs and lineage (ui.entrypoints.lake_pages, ``/api/lake/*`` relayed to ``data_lake_url``
through the LakeCatalog port), all relayed unchanged. ``/operations`` (ui.entrypoints.operations_pages) draws the
key monitoring panels and the firing alerts from Prometheus (the MetricsHistory port, ``prometheus_url``). Every page
shares one navigation bar (ui.navigation).
"""

from __future__ import annotations

from typing import Any

from apiflask import APIFlask
from flask import Response, jsonify, render_template, request

from strata_kernel.access import public
from strata_kernel.logs import configure_logging
from strata_kernel.service import create_service_app
from ui.bootstrap import bootstrap
from ui.domain.reply import Reply
from ui.entrypoints.help_pages import register_help
from ui.entrypoints.lake_pages import register_lake
from ui.entrypoints.operations_pages import register_operations
from ui.navigation import install_navigation
from ui.ports import BusinessLogic, Deployments, FeatureDirectory, ModelTrees
from ui.settings import Settings

COMPONENT = "ui"
#: the only query filters relayed to business_logic
RESTAURANT_FILTERS = ("city_id", "q", "limit")
# the page loads nothing but its own files: no CDN, no inline script
_PAGE_POLICY = "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"


def create_app(settings: Settings | None = None, **overrides: Any) -> APIFlask:
    """Build the UI app; ``overrides`` go to :func:`ui.bootstrap.bootstrap` (``business_logic``, ``help_centre``,
    ``feature_directory``, ``model_trees``, ``deployments``, ``lake_catalog``, ``metrics_history``: fakes in tests)."""
    settings = settings or Settings()
    configure_logging(COMPONENT, settings.log_level, settings.log_json)
    deps = bootstrap(settings, **overrides)
    business_logic = deps.business_logic
    app = create_service_app(
        COMPONENT,
        title="Strata UI",
        readiness_checks=[business_logic.problem],
        description="The delivery-time page and its relay to business_logic.",
        callers=settings.caller_directory(),
    )
    app.extensions["ui.deps"] = deps
    install_navigation(app)
    _register_page(app)
    _register_relay(app, business_logic)
    _register_feature_directory(app, deps.feature_directory)
    _register_model_pages(app, deps.model_trees, deps.deployments, settings.mlflow_ui_url)
    register_help(app, deps.help_centre, _page)
    register_lake(app, deps.lake_catalog, _page)
    register_operations(app, deps.metrics_history, _page)
    return app


def _page(template: str, **context: Any) -> Response:
    """A page of the UI, with headers that forbid anything but its own files."""
    response = Response(render_template(template, **context), mimetype="text/html")
    response.headers["Content-Security-Policy"] = _PAGE_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def _register_page(app: APIFlask) -> None:
    @app.get("/")
    @app.doc(hide=True)
    def index() -> Response:
        return _page("index.html")


def _register_relay(app: APIFlask, business_logic: BusinessLogic) -> None:
    @app.get("/api/restaurants")
    @app.doc(tags=["relay"], summary="business_logic GET /v1/restaurants, relayed unchanged.")
    def list_restaurants() -> tuple[Response, int]:
        filters = {name: request.args[name] for name in RESTAURANT_FILTERS if name in request.args}
        return _relayed(business_logic.list_restaurants(filters))

    @app.get("/api/restaurants/<restaurant_id>")
    @app.doc(tags=["relay"], summary="business_logic GET /v1/restaurants/{id}, relayed unchanged.")
    def get_restaurant(restaurant_id: str) -> tuple[Response, int]:
        return _relayed(business_logic.get_restaurant(restaurant_id))

    @app.post("/api/etd")
    @public  # an end user's call
    @app.doc(tags=["relay"], summary="business_logic POST /v1/etd, relayed unchanged.")
    def quote_etd() -> tuple[Response, int]:
        # an unparsable body is business_logic's to judge only if it is JSON at all
        body = request.get_json(force=True)
        return _relayed(business_logic.quote_etd(body))


def _register_feature_directory(app: APIFlask, directory: FeatureDirectory) -> None:
    @app.get("/features")
    @app.doc(hide=True)
    def features_page() -> Response:
        return _page("features.html")

    @app.get("/api/feature-groups")
    @app.doc(tags=["relay"], summary="data_processing GET /v1/feature-groups, relayed unchanged.")
    def feature_groups() -> tuple[Response, int]:
        return _relayed(directory.list_groups(request.args.get("q", "")))

    @app.get("/api/feature-groups/<name>")
    @app.doc(tags=["relay"], summary="data_processing GET /v1/feature-groups/{name}, relayed unchanged.")
    def feature_group(name: str) -> tuple[Response, int]:
        return _relayed(directory.get_group(name))

    @app.get("/api/features/<path:expression>")
    @app.doc(tags=["relay"], summary="data_processing GET /v1/features/{@group:feature}, relayed unchanged.")
    def feature(expression: str) -> tuple[Response, int]:
        return _relayed(directory.get_feature(expression))


def _register_model_pages(app: APIFlask, trees: ModelTrees, deployments: Deployments, mlflow_ui_url: str) -> None:
    @app.get("/models")
    @app.doc(hide=True)
    def models_index() -> Response:
        return _page("models_index.html")

    @app.get("/models/<name>")
    @app.doc(hide=True)
    def model_page(name: str) -> Response:
        return _page("models.html", model=name, mlflow_ui_url=mlflow_ui_url.rstrip("/"))

    @app.get("/api/models")
    @app.doc(tags=["relay"], summary="inference_engine GET /v1/models, relayed unchanged.")
    def served_models() -> tuple[Response, int]:
        return _relayed(trees.list_models())

    @app.get("/api/models/<name>/versions")
    @app.doc(tags=["relay"], summary="inference_engine GET /v1/models/{name}/versions, relayed unchanged.")
    def model_versions(name: str) -> tuple[Response, int]:
        return _relayed(trees.versions(name))

    @app.get("/api/models/<name>/tree")
    @app.doc(tags=["relay"], summary="inference_engine GET /v1/models/{name}/tree[?version=N], relayed unchanged.")
    def model_tree(name: str) -> tuple[Response, int]:
        return _relayed(trees.get_tree(name, request.args.get("version")))

    @app.get("/api/deployments/<name>/history")
    @app.doc(tags=["relay"], summary="comparative_eval GET /v1/deployments/{name}/history, relayed unchanged.")
    def deployment_history(name: str) -> tuple[Response, int]:
        return _relayed(deployments.history(name))


def _relayed(reply: Reply) -> tuple[Response, int]:
    if reply.body is None:
        return Response(status=reply.status), reply.status
    return jsonify(reply.body), reply.status

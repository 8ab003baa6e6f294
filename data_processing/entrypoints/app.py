"""The ETD runtime service (``python -m data_processing serve``, port 8002)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from apiflask import APIFlask, Schema, fields
from flask import request
from prometheus_client import CollectorRegistry, Counter

from data_processing.adapters.refused_requests import RefusedRequestFields
from data_processing.bootstrap import Dependencies, bootstrap
from data_processing.directory.usage import model_consumer
from data_processing.domain.orders import parse_order
from data_processing.entrypoints.directory_api import install_deprecation_header, register_directory_routes
from data_processing.entrypoints.help_api import help_answer_lean, register_help_routes
from data_processing.freshness import FreshnessCollector, GroupFreshness
from data_processing.services import ModelCatalog, online_readiness
from data_processing.serving import read_features as read_online_features
from data_processing.settings import COMPONENT, Settings
from strata_kernel import background
from strata_kernel.access import callers
from strata_kernel.contracts import headers
from strata_kernel.contracts.auth import OPERATOR
from strata_kernel.contracts.etd import InvalidOrder, estimate_request_violations
from strata_kernel.contracts.serving import (
    FeatureReadRequest,
    InvalidRequest,
    OnlinePredictRequest,
    envelope_violations,
)
from strata_kernel.errors import BadRequest
from strata_kernel.lean import install_lean_routes
from strata_kernel.logs import configure_logging
from strata_kernel.metrics import metric_name
from strata_kernel.service import add_scrape_time_collector, create_service_app


class EstimateIn(Schema):
    restaurant_id = fields.String(required=True)
    city_id = fields.String(required=True)
    country_code = fields.String(required=True)
    placed_at = fields.String(required=True, metadata={"description": "ISO-8601 local wall-clock time"})
    n_items = fields.Integer(required=True)
    subtotal = fields.Float(required=True)


def register_model_routes(
    app: APIFlask, models: ModelCatalog, deps: Dependencies, refused: RefusedRequestFields
) -> None:
    """The generic online API of declared models (strata_kernel/contracts/serving.py)."""
    served = Counter(metric_name(COMPONENT, "model_predictions_total"), "Instances answered per declared model.",
                     ["model"], registry=deps.registry)  # fmt: skip

    @app.post("/v1/models/<name>/predict")
    @app.doc(
        tags=["models"],
        summary="Predict with a declared model: each instance's entity keys, nominal time and context fields -> "
        "online features -> the training expressions -> the inference engine (routing, prediction log).",
        description="Body {instances: [{<entity keys>, <time>, <context fields>}]} (1..1000) -> {model, version, "
        "predictions, features_age_seconds, nodes?, route?}; header X-Routing-Key keys the canary split.",
        responses=[200, 400, 404, 503],
    )
    def predict(name: str) -> dict[str, Any]:
        predictor, raw = models.predictor(name), request.get_json(silent=True)
        try:
            body = OnlinePredictRequest.from_wire(raw)
        except InvalidRequest:
            refused.record(name, envelope_violations(raw))
            raise
        try:
            answer = predictor.predict(body, _routing_key())
        except InvalidRequest:
            refused.record(name, predictor.request_violations(body))
            raise
        served.labels(name).inc(len(answer.predictions))
        return answer.to_wire()

    @app.get("/v1/features")
    @app.doc(
        tags=["features"],
        summary="Features alone: ?entity=<id> (or <key>:<id> per entity kind)&features=@g:f,@g:f[&at=ISO]; a row "
        "older than its group's TTL at `at` (default now) is null.",
        responses=[200, 400, 404],
    )
    def read_features() -> dict[str, Any]:
        query = {"entity": request.args.getlist("entity"), "features": request.args.get("features"),
                 "at": request.args.get("at")}  # fmt: skip
        asked = FeatureReadRequest.from_wire(query)
        return read_online_features(deps.online_store, asked, deps.feature_groups.get, _now).to_wire()


def _routing_key() -> str | None:
    key = request.headers.get(headers.ROUTING_KEY)
    if key is not None and len(key) > headers.MAX_ROUTING_KEY_CHARS:
        raise BadRequest(f"{headers.ROUTING_KEY} must be at most {headers.MAX_ROUTING_KEY_CHARS} characters",
                         field=headers.ROUTING_KEY)  # fmt: skip
    return key


def _now() -> datetime:
    return datetime.now(UTC)


def create_app(settings: Settings | None = None, **overrides: Any) -> APIFlask:
    """``overrides`` go to :func:`data_processing.bootstrap.bootstrap` (``online_store``, ``inference_engine``,
    ``feature_groups``, ``feature_directory``, ``help_engine``, ...: fakes in tests)."""
    settings = settings if settings is not None else Settings()
    configure_logging(COMPONENT, settings.log_level, settings.log_json)
    deps = bootstrap(settings, registry=CollectorRegistry(), **overrides)
    runtime, directory, usage = deps.runtime, deps.feature_directory, deps.usage
    app = create_service_app(
        COMPONENT,
        title="Strata data_processing",
        description="Online serving of declared models (features + context -> inference engine), ETD's estimate, "
        "the feature directory and the chatbot's answers.",
        readiness_checks=[online_readiness(deps.online_store, runtime.groups)],
        registry=deps.registry,
        callers=settings.caller_directory(),
    )
    estimator = runtime.estimator
    refused = RefusedRequestFields(deps.registry)

    @app.post("/v1/etd/estimate")
    @callers("business_logic", OPERATOR)
    @app.input(EstimateIn, validation=False, arg_name="body")  # documented; validated by the domain (fast)
    @app.doc(
        summary="Estimated time of delivery of one order.",
        description="Answers {etd_minutes, model, version, features_age_seconds?} (no output schema: the hot "
        "path returns a plain dict).",
        responses=[200, 400, 503],
    )
    def estimate(body: Any) -> dict[str, Any]:
        return estimate_order(request.get_json(silent=True))

    def estimate_order(raw: Any) -> dict[str, Any]:
        """``POST /v1/etd/estimate``, through Flask or lean."""
        try:
            order = parse_order(raw)
        except InvalidOrder:
            refused.record(settings.etd_model, estimate_request_violations(raw))
            raise
        return estimator.estimate(order).to_wire()

    register_model_routes(app, runtime.models, deps, refused)

    fresh = GroupFreshness(deps.online_store, zone_of=deps.feature_groups.declared_zone)
    register_directory_routes(app, directory, settings.resolved_feature_groups_dir(), fresh=fresh.of,
                              zone_of=deps.feature_groups.declared_zone)  # fmt: skip
    add_scrape_time_collector(app, FreshnessCollector(COMPONENT, directory, fresh, runtime.groups))
    register_help_routes(app, deps.help_answerer)  # no readiness check: ETD serves without a help model
    etd_consumer = model_consumer(settings.etd_model)
    install_deprecation_header(app, "estimate", usage, lambda _path_args: etd_consumer)
    install_deprecation_header(app, "predict", usage, lambda path_args: model_consumer(path_args.get("name", "")))
    background.register(app, usage.loop())  # started after the fork by the server
    app.extensions["data_processing.deps"] = deps
    app.extensions["strata.feature_usage"] = usage
    # the hot paths of every quote and chatbot question
    install_lean_routes(app, {"estimate": lambda call: estimate_order(call.body),
                              "help_answer": help_answer_lean(deps.help_answerer)})  # fmt: skip
    return app

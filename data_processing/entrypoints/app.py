"""The ETD runtime service (``python -m data_processing serve``, port 8002)."""

from __future__ import annotations

from typing import Any

from apiflask import APIFlask, Schema, fields
from flask import request
from prometheus_client import CollectorRegistry

from data_processing.bootstrap import COMPONENT, bootstrap
from data_processing.directory.api import install_deprecation_header, register_directory_routes
from data_processing.directory.usage import model_consumer
from data_processing.domain.orders import parse_order
from data_processing.entrypoints.help_api import register_help_routes
from data_processing.freshness import FreshnessCollector, GroupFreshness
from data_processing.services import online_readiness
from data_processing.settings import Settings
from strata_kernel.access import callers
from strata_kernel.contracts.auth import OPERATOR
from strata_kernel.logs import configure_logging
from strata_kernel.service import add_scrape_time_collector, create_service_app


class EstimateIn(Schema):
    restaurant_id = fields.String(required=True)
    city_id = fields.String(required=True)
    country_code = fields.String(required=True)
    placed_at = fields.String(required=True, metadata={"description": "ISO-8601 local wall-clock time"})
    n_items = fields.Integer(required=True)
    subtotal = fields.Float(required=True)


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
        description="ETD runtime: online features + order features -> inference engine.",
        readiness_checks=[online_readiness(deps.online_store, runtime.groups)],
        registry=deps.registry,
        callers=settings.caller_directory(),
    )
    estimator = runtime.estimator

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
        return estimator.estimate(parse_order(request.get_json(silent=True))).to_wire()

    fresh = GroupFreshness(deps.online_store)
    register_directory_routes(app, directory, settings.resolved_feature_groups_dir(), fresh=fresh.of)
    add_scrape_time_collector(app, FreshnessCollector(COMPONENT, directory, fresh, runtime.groups))
    register_help_routes(app, deps.help_answerer)  # no readiness check: ETD serves without a help model
    install_deprecation_header(app, "estimate", usage, model_consumer(settings.etd_model))
    app.extensions["data_processing.deps"] = deps
    app.extensions["strata.feature_usage"] = usage
    return app

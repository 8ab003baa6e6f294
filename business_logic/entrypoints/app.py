"""HTTP API of business_logic (see docs/contracts.md): restaurants, menus and ETD quotes."""

from __future__ import annotations

import atexit
from dataclasses import asdict
from typing import Any

from apiflask import APIFlask
from prometheus_client import Counter

from business_logic import services
from business_logic.bootstrap import Dependencies, bootstrap, outbox_drain
from business_logic.domain.restaurants import BasketLine, EtdQuote, Restaurant
from business_logic.entrypoints.help_routes import register_help_routes
from business_logic.entrypoints.schemas import (
    PUBLIC_BODY_LIMIT,
    EtdIn,
    EtdOut,
    RestaurantListOut,
    RestaurantOut,
    RestaurantQuery,
)
from business_logic.outbox_relay import OutboxRelay
from business_logic.settings import Settings
from strata_kernel import background
from strata_kernel.access import public
from strata_kernel.inputs import body_limit
from strata_kernel.lean import LeanView, install_lean_routes, load_input
from strata_kernel.logs import configure_logging
from strata_kernel.metrics import metric_name
from strata_kernel.service import create_service_app, observe_answers

COMPONENT = "business_logic"
ETD_PATH = "/v1/etd"
_OUTCOME_BY_STATUS = {200: "ok", 400: "bad_request", 404: "not_found", 503: "unavailable"}


def create_app(settings: Settings | None = None, **overrides: Any) -> APIFlask:
    """Build the app; ``overrides`` (uow_factory, estimator, help_engine, event_log, clock) replace adapters."""
    settings = settings or Settings()
    configure_logging(COMPONENT, settings.log_level, settings.log_json)
    deps = bootstrap(settings, **overrides)
    deps.build("uow_factory", "estimator", "help_engine", "event_log")
    atexit.register(deps.close)

    def catalog_loaded() -> str | None:
        return _catalog_problem(deps)

    app = create_service_app(
        COMPONENT,
        title="Strata business logic",
        readiness_checks=[catalog_loaded],
        description="Restaurants, menus, delivery-time (ETD) quotes and the help-centre chatbot.",
        callers=settings.caller_directory(),
    )
    app.extensions["business_logic.deps"] = deps
    _register_routes(app, deps)
    _count_etd_outcomes(app)
    lean_ask = register_help_routes(app, deps, COMPONENT)
    commit_sync = deps.commit_sync_loop()
    if commit_sync is not None:  # the durability window of the embedded database's commits (stopped last: the
        background.register(app, commit_sync)  # loops stop in reverse order, its final sync follows the relay's)
    # each process (gunicorn worker) drains the outbox; claims are atomic, so workers share the rows
    if settings.outbox_relay_interval_seconds > 0:
        relay = OutboxRelay(outbox_drain(settings, deps), settings.outbox_relay_interval_seconds).loop()
        background.register(app, relay)
        deps.on_close(relay.stop)  # closed first: the relay stops before the database and the event log
    install_lean_routes(app, {"quote_etd": _lean_quote(deps), "ask": lean_ask})  # every quote and question
    return app


def _catalog_problem(deps: Dependencies) -> str | None:
    if services.count_restaurants(deps.uow_factory) == 0:
        return "no restaurants in the database (run `python -m business_logic load-catalog PATH`)"
    return None


def _register_routes(app: APIFlask, deps: Dependencies) -> None:
    @app.get("/v1/restaurants")
    @app.input(RestaurantQuery, location="query", arg_name="query")
    @app.output(RestaurantListOut)
    @app.doc(tags=["restaurants"], summary="List restaurants, by city then name.")
    def list_restaurants(query: dict[str, Any]) -> dict[str, Any]:
        found = services.list_restaurants(
            deps.uow_factory, city_id=query["city_id"], text=query["q"], limit=query["limit"]
        )
        return {"restaurants": [asdict(restaurant) for restaurant in found]}

    @app.get("/v1/restaurants/<restaurant_id>")
    @app.output(RestaurantOut)
    @app.doc(tags=["restaurants"], summary="One restaurant with its menu.", responses=[404])
    def get_restaurant(restaurant_id: str) -> dict[str, Any]:
        return _restaurant_body(services.get_restaurant(deps.restaurants, restaurant_id))

    @app.post(ETD_PATH)
    @public  # an end user's call
    @body_limit(PUBLIC_BODY_LIMIT)
    @app.input(EtdIn, arg_name="body")
    @app.output(EtdOut)
    @app.doc(tags=["etd"], summary="Quote the delivery time of a basket.", responses=[400, 404, 503])
    def quote_etd(body: dict[str, Any]) -> dict[str, Any]:
        return _quote_body(_quote(deps, body))


def _lean_quote(deps: Dependencies) -> LeanView:
    """``POST /v1/etd`` (``quote_etd``) served lean, with the same schemas in and out as APIFlask applies."""
    etd_in, etd_out = EtdIn(), EtdOut()
    return lambda call: etd_out.dump(_quote_body(_quote(deps, load_input(etd_in, call.body))))


def _quote(deps: Dependencies, body: dict[str, Any]) -> EtdQuote:
    basket = [BasketLine(item_id=line["item_id"], quantity=line["quantity"]) for line in body["basket"]]
    return services.quote_etd(
        body["restaurant_id"], basket, restaurants=deps.restaurants, estimator=deps.estimator, clock=deps.clock,
        customer_id=body.get("customer_id"),
    )  # fmt: skip


def _restaurant_body(restaurant: Restaurant) -> dict[str, Any]:
    body = asdict(restaurant)
    body["menu"] = [asdict(item) for item in restaurant.menu]
    return body


def _quote_body(quote: EtdQuote) -> dict[str, Any]:
    return {
        "restaurant_id": quote.restaurant_id,
        "etd_minutes": quote.etd_minutes,
        "subtotal": float(quote.subtotal),
        "n_items": quote.n_items,
        "quoted_at": quote.quoted_at.isoformat(timespec="seconds"),
    }


def _count_etd_outcomes(app: APIFlask) -> None:
    # counted from the response so schema rejections (never reaching the view) are counted too
    quotes = Counter(
        metric_name(COMPONENT, "etd_quotes_total"),
        "ETD quote requests by outcome.",
        ["outcome"],
        registry=app.extensions["strata.registry"],
    )
    for outcome in (*_OUTCOME_BY_STATUS.values(), "error"):
        quotes.labels(outcome)

    observe_answers(app, "quote_etd", lambda status: quotes.labels(_OUTCOME_BY_STATUS.get(status, "error")).inc())

"""The ETD web page and the small JSON relay it talks to (``/api/*`` -> business_logic, unchanged)."""

from __future__ import annotations

from typing import Any

from apiflask import APIFlask
from flask import Response, jsonify, render_template, request

from strata_kernel.logs import configure_logging
from strata_kernel.service import create_service_app
from ui.bootstrap import bootstrap
from ui.domain.reply import Reply
from ui.ports import BusinessLogic
from ui.settings import Settings

COMPONENT = "ui"
#: the only query filters relayed to business_logic
RESTAURANT_FILTERS = ("city_id", "q", "limit")
# the page loads nothing but its own files: no CDN, no inline script
_PAGE_POLICY = "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"


def create_app(settings: Settings | None = None, **overrides: Any) -> APIFlask:
    """Build the UI app; ``business_logic=`` replaces the HTTP adapter at its port (tests)."""
    settings = settings or Settings()
    configure_logging(COMPONENT, settings.log_level, settings.log_json)
    business_logic = bootstrap(settings, **overrides)
    app = create_service_app(
        COMPONENT,
        title="Strata UI",
        readiness_checks=[business_logic.problem],
        description="The delivery-time page and its relay to business_logic.",
    )
    _register_page(app)
    _register_relay(app, business_logic)
    return app


def _register_page(app: APIFlask) -> None:
    @app.get("/")
    @app.doc(hide=True)
    def index() -> Response:
        response = Response(render_template("index.html"), mimetype="text/html")
        response.headers["Content-Security-Policy"] = _PAGE_POLICY
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response


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
    @app.doc(tags=["relay"], summary="business_logic POST /v1/etd, relayed unchanged.")
    def quote_etd() -> tuple[Response, int]:
        # an unparsable body is business_logic's to judge only if it is JSON at all
        body = request.get_json(force=True)
        return _relayed(business_logic.quote_etd(body))


def _relayed(reply: Reply) -> tuple[Response, int]:
    if reply.body is None:
        return Response(status=reply.status), reply.status
    return jsonify(reply.body), reply.status

"""The operators' /operations page: the key panels of every layer and flow, and the alerts firing now.

Fed by ``/api/operations/*``: the panel list (ui.domain.operations), one panel's series over a range (Prometheus
``query_range``, relayed unchanged) and the active alerts (Prometheus ``/api/v1/alerts``, relayed unchanged),
all through the MetricsHistory port. The browser picks a panel and a range, never a query.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from apiflask import APIFlask
from flask import Response, jsonify, request

from strata_kernel.errors import BadRequest, NotFound
from ui.domain import operations
from ui.domain.reply import Reply
from ui.ports import MetricsHistory


def register_operations(
    app: APIFlask, history: MetricsHistory, page: Callable[[str], Response], clock: Callable[[], float] = time.time
) -> None:
    """``page(template)`` renders a page with the UI's security headers."""

    @app.get("/operations")
    @app.doc(hide=True)
    def operations_page() -> Response:
        return page("operations.html")

    @app.get("/api/operations/panels")
    @app.doc(tags=["operations"], summary="The key panels of /operations: id, title, unit, PromQL, and the ranges.")
    def operations_panels() -> dict[str, Any]:
        return {"panels": [asdict(p) for p in operations.PANELS], "ranges": list(operations.RANGES)}

    @app.get("/api/operations/panels/<panel_id>")
    @app.doc(
        tags=["operations"],
        summary="One panel's series over ?range= (15m, 1h, 6h, 1d): Prometheus query_range, relayed unchanged.",
    )
    def operations_panel(panel_id: str) -> tuple[Response, int]:
        found = operations.panel(panel_id)
        if found is None:
            raise NotFound(f"no panel {panel_id!r}; GET /api/operations/panels lists them", code="unknown_panel")
        range_name = request.args.get("range", "1h")
        window = operations.window(range_name, clock())
        if window is None:
            raise BadRequest(f"range must be one of {', '.join(operations.RANGES)}", field="range")
        return _relayed(history.query_range(found.query, window.start, window.end, window.step))

    @app.get("/api/operations/alerts")
    @app.doc(tags=["operations"], summary="Prometheus GET /api/v1/alerts (pending and firing), relayed unchanged.")
    def operations_alerts() -> tuple[Response, int]:
        return _relayed(history.alerts())


def _relayed(reply: Reply) -> tuple[Response, int]:
    if reply.body is None:
        return Response(status=reply.status), reply.status
    return jsonify(reply.body), reply.status

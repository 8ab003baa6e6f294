"""The data scientists' lake pages: ``/lake`` (every table) and ``/lake/<table>`` (profile, histograms, partition
timeline, lineage, and ``?compare=A..B``), fed by ``/api/lake/*`` which relays the data lake's API unchanged."""

from __future__ import annotations

from collections.abc import Callable

from apiflask import APIFlask
from flask import Response, jsonify, request

from ui.domain.reply import Reply
from ui.ports import LakeCatalog


def register_lake(app: APIFlask, lake: LakeCatalog, page: Callable[[str], Response]) -> None:
    """``page(template)`` renders a page with the UI's security headers."""

    @app.get("/lake")
    @app.doc(hide=True)
    def lake_page() -> Response:
        return page("lake.html")

    @app.get("/lake/<table>")
    @app.doc(hide=True)
    def lake_table_page(table: str) -> Response:
        return page("lake_table.html")  # the script reads the table and ?compare= from the address

    @app.get("/api/lake/overview")
    @app.doc(tags=["relay"], summary="data_lake GET /v1/overview, relayed unchanged.")
    def lake_overview() -> tuple[Response, int]:
        return _relayed(lake.overview())

    @app.get("/api/lake/tables/<table>")
    @app.doc(tags=["relay"], summary="data_lake GET /v1/tables/{name}, relayed unchanged.")
    def lake_table(table: str) -> tuple[Response, int]:
        return _relayed(lake.table(table))

    @app.get("/api/lake/tables/<table>/profile")
    @app.doc(tags=["relay"], summary="data_lake GET /v1/tables/{name}/profile[?version=N], relayed unchanged.")
    def lake_profile(table: str) -> tuple[Response, int]:
        return _relayed(lake.profile(table, request.args.get("version")))

    @app.get("/api/lake/tables/<table>/diff")
    @app.doc(tags=["relay"], summary="data_lake GET /v1/tables/{name}/diff?from=A&to=B, relayed unchanged.")
    def lake_diff(table: str) -> tuple[Response, int]:
        return _relayed(lake.diff(table, request.args.get("from"), request.args.get("to")))

    @app.get("/api/lake/tables/<table>/lineage")
    @app.doc(tags=["relay"], summary="data_lake GET /v1/tables/{name}/lineage, relayed unchanged.")
    def lake_lineage(table: str) -> tuple[Response, int]:
        return _relayed(lake.lineage(table))


def _relayed(reply: Reply) -> tuple[Response, int]:
    if reply.body is None:
        return Response(status=reply.status), reply.status
    return jsonify(reply.body), reply.status

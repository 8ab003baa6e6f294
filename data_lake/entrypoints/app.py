"""HTTP API of the data lake catalog (see docs/contracts.md, "data_lake HTTP API")."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from apiflask import APIFlask, Schema
from apiflask.fields import Boolean, Integer, List, Nested, String
from apiflask.validators import Length, Range
from flask import g, request

from data_lake.bootstrap import Lake, bootstrap
from data_lake.domain.commits import MAX_FILE_ROWS, DataFile
from data_lake.domain.tables import TableName
from data_lake.entrypoints.views import (
    check_view,
    commit_view,
    diff_view,
    hold_view,
    lineage_view,
    overview_view,
    profile_view,
    summary_view,
    table_view,
)
from data_lake.errors import InvalidLookup, InvalidVersion
from data_lake.services import CatalogService
from data_lake.settings import Settings
from strata_kernel.access import KNOWN_CALLERS, callers
from strata_kernel.contracts.auth import OPERATOR
from strata_kernel.contracts.lake_commit import CommitRequest
from strata_kernel.contracts.wire import version_number
from strata_kernel.logs import configure_logging
from strata_kernel.service import create_service_app
from strata_kernel.settings import load_settings

#: who may commit table versions: the deployables whose jobs write tables, and the operator
WRITERS = ("data_collection", "data_processing", "data_lake", OPERATOR)
#: who may keep a version's files: the training jobs' deployables and the operator
READERS_THAT_HOLD = ("inference_engine", "data_processing", OPERATOR)


class ColumnIn(Schema):
    name = String(required=True, validate=Length(min=1, max=200))
    type = String(required=True, validate=Length(min=1, max=200))


class FileIn(Schema):
    path = String(required=True, metadata={"description": "<zone>/<table>/_staging/<run>/<column>=<value>/<f>.parquet"})
    partition = String(required=True)
    rows = Integer(required=True, validate=Range(min=0, max=MAX_FILE_ROWS))


class CommitIn(Schema):
    """The route's documentation of :class:`strata_kernel.contracts.lake_commit.CommitRequest` (same fields)."""

    partition_column = String(required=True)
    schema = List(Nested(ColumnIn), required=True)
    files = List(Nested(FileIn), required=True)
    mode = String(load_default="append")
    job = String(required=True)
    inputs = List(String(), load_default=list)
    accept_schema_change = Boolean(
        load_default=False,
        metadata={
            "description": "Take a commit whose files lack "
            "columns of the table (otherwise it is quarantined: 409 commit_quarantined)."
        },
    )
    continuous = Boolean(
        load_default=False,
        metadata={"description": "A continuous writer's commit (a stream's flush): its size follows the writer's "
                  "flush timing, so the row-count check does not judge it."},
    )  # fmt: skip


def create_app(settings: Settings | None = None, **overrides: Any) -> APIFlask:
    """Build the service; ``overrides`` go to :func:`bootstrap` (tests pass fakes or a clock)."""
    if settings is None:  # we are the process entrypoint (gunicorn): we own settings and logging
        settings = load_settings(Settings)
        configure_logging("data_lake", settings.log_level, settings.log_json)
    lake = bootstrap(settings, **overrides)
    app = create_service_app(
        "data_lake",
        title="Strata data lake catalog",
        readiness_checks=[lake.catalog.check_ready],
        description="Versions, partitions, lineage, profiles and version diffs of the lake's Parquet tables.",
        callers=settings.caller_directory(),
    )
    app.extensions["data_lake.service"] = lake.catalog
    app.extensions["data_lake.lake"] = lake
    _register_routes(app, lake.catalog)
    _register_holds(app, lake.catalog)
    _register_analysis(app, lake)
    return app


def _register_routes(app: APIFlask, service: CatalogService) -> None:
    @app.post("/v1/tables/<table>/commits")
    @callers(*WRITERS)
    @app.input(CommitIn, arg_name="body")
    @app.doc(
        tags=["tables"],
        summary="Commit staged Parquet files as the table's next version (rows and schema checked against their "
        "footers; only the owning deployable writes a table, only its owning job overwrites it). 200 when the same "
        "staging run was committed before.",
        responses=[200, 201, 400, 403, 409],
    )
    def commit(table: str, body: dict[str, Any]) -> tuple[dict[str, Any], int]:
        wire = CommitRequest.from_wire(body)  # the schema above has checked the fields; this is the contract's type
        request = service.build_request(
            table,
            partition_column=wire.partition_column,
            schema=[(column.name, column.type) for column in wire.schema],
            files=[DataFile(f.path, f.partition, f.rows) for f in wire.files],
            mode=wire.mode,
            job=wire.job,
            inputs=list(wire.inputs),
            caller=g.get("strata_caller"),
            accept_schema_change=wire.accept_schema_change,
            continuous=wire.continuous,
        )
        committed = service.commit(request)
        return commit_view(committed), 200 if committed.replayed else 201

    @app.get("/v1/tables")
    @app.doc(tags=["tables"], summary="Every table with its latest version.")
    def list_tables() -> dict[str, Any]:
        return {"tables": [summary_view(summary) for summary in service.tables()]}

    @app.get("/v1/tables/<table>")
    @app.doc(
        tags=["tables"],
        summary="A table's location, schema, partitions and commits (lineage); ?version=N: "
        "that version's files (409 once they were deleted), for a reader rebuilding what read it.",
    )
    def show_table(table: str) -> dict[str, Any]:
        return table_view(service.table(table, _version(request.args.get("version"), "version")))


class HoldIn(Schema):
    version = Integer(required=True, validate=Range(min=1))
    holder = String(required=True, validate=Length(min=1, max=200))


class HolderQuery(Schema):
    holder = String(required=True, validate=Length(min=1, max=200))


def _register_holds(app: APIFlask, service: CatalogService) -> None:
    @app.post("/v1/tables/<table>/holds")
    @callers(*READERS_THAT_HOLD)
    @app.input(HoldIn, arg_name="body")
    @app.doc(
        tags=["tables"],
        summary="Keep a version's files past the retention period (a training run holds the version it read, so "
        "its model can be rebuilt from it); 404 for an unknown version, 409 once its files are gone.",
        responses=[201, 400, 401, 403, 404, 409],
    )
    def hold(table: str, body: dict[str, Any]) -> tuple[dict[str, Any], int]:
        details = service.hold(table, body["version"], body["holder"])
        return {"table": details.snapshot.table.qualified, "version": body["version"], "holder": body["holder"]}, 201

    @app.get("/v1/tables/<table>/holds")
    @callers(*sorted(KNOWN_CALLERS))  # holders name training runs: for the platform's callers, not the public
    @app.doc(
        tags=["tables"],
        summary="Who keeps which versions of the table past the retention period: {table, holds: [{version, "
        "holder, held_at}]} by version; 404 for an unknown table.",
        responses=[200, 401, 403, 404],
    )
    def list_holds(table: str) -> dict[str, Any]:
        holds = service.holds(table)
        return {"table": TableName.parse(table).qualified, "holds": [hold_view(hold) for hold in holds]}

    @app.delete("/v1/tables/<table>/holds/<version>")
    @callers(OPERATOR)
    @app.input(HolderQuery, location="query", arg_name="query")
    @app.doc(
        tags=["tables"],
        summary="Release one hold (?holder=, as it was held): a version no holder keeps any more is deleted by the "
        "first commit after the retention period, like any replaced version. 400 for a bad version or holder; 404 "
        "for an unknown table, version or hold (releasing twice is a 404, not a silent success).",
        responses=[200, 400, 401, 403, 404],
    )
    def release_hold(table: str, version: str, query: dict[str, Any]) -> dict[str, Any]:
        number = version_number(version)
        if number is None:
            raise InvalidVersion(f"version: {version[:40]!r} is not a version number", field="version")
        service.release(table, number, query["holder"])
        return {"table": TableName.parse(table).qualified, "version": number, "holder": query["holder"]}


def _version(text: str | None, field: str) -> int | None:
    if text is None or text in ("", "latest"):
        return None
    number = version_number(text)
    if number is None and text != "0":
        raise InvalidVersion(f"{field}: {text!r} is not a version number", field=field)
    return number or 0


MAX_AS_OF = 200


def _id_at(text: str) -> tuple[str, datetime]:
    ident, _, at = text.rpartition("@")
    try:
        when = datetime.fromisoformat(at)
    except ValueError:
        when = None
    if not ident or when is None or when.tzinfo is None:
        raise InvalidLookup(f"at: {text[:80]!r} is not <id>@<ISO instant with a zone>", field="at")
    return ident, when.astimezone(UTC)


def _json_value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def _register_analysis(app: APIFlask, lake: Lake) -> None:
    profiles = lake.profiles
    checks = lake.checks

    @app.get("/v1/commit-checks")
    @app.doc(
        tags=["analysis"],
        summary="Findings of the commit checks after ?after=<id> (oldest first, ?limit<=1000): schema breaks "
        "(quarantined commits) and profile anomalies; ?quarantined=true[&table=]: commits in quarantine now.",
    )
    def commit_checks() -> dict[str, Any]:
        if checks is None:
            return {"checks": []}
        if request.args.get("quarantined") == "true":
            table = request.args.get("table")
            found = checks.quarantined(TableName.parse(table) if table else None)
        else:
            after = _version(request.args.get("after"), "after") or 0
            limit = _version(request.args.get("limit"), "limit") or 1000
            found = checks.after(after, min(limit, 1000))
        return {"checks": [check_view(check) for check in found]}

    @app.get("/v1/overview")
    @app.doc(tags=["analysis"], summary="Every table with zone, version, rows, freshness and rows per partition.")
    def overview() -> dict[str, Any]:
        return overview_view(profiles)

    @app.get("/v1/tables/<table>/profile")
    @app.doc(tags=["analysis"], summary="A version's profile (?version=N, default latest; ?sketches=true).")
    def table_profile(table: str) -> dict[str, Any]:
        version = _version(request.args.get("version"), "version")
        found = profiles.profile(table, version)
        return profile_view(profiles, found, sketches=request.args.get("sketches") == "true")

    @app.get("/v1/tables/<table>/diff")
    @app.doc(tags=["analysis"], summary="Schema, row-count and distribution changes from ?from=A to ?to=B.")
    def table_diff(table: str) -> dict[str, Any]:
        first = _version(request.args.get("from"), "from")
        second = _version(request.args.get("to"), "to")
        if first is None:
            raise InvalidVersion("from: a version to compare from is required", field="from")
        before, after, diff = profiles.diff(table, first, second or profiles.profile(table).snapshot.version)
        return diff_view(before, after, diff)

    @app.get("/v1/tables/<table>/as-of")
    @app.doc(
        tags=["analysis"],
        summary="Point-in-time read (the offline value a model trained on): ?key=<column>&time=<column>"
        "&columns=a,b&at=<id>@<ISO instant> (repeated, at most 200): per id, the latest row at or before its instant. "
        "&zone=<IANA name> (default UTC): the wall clock of the table's zone-less times.",
        responses=[200, 400, 404],
    )
    def table_as_of(table: str) -> dict[str, Any]:
        wanted = [_id_at(text) for text in request.args.getlist("at")]
        if len(wanted) > MAX_AS_OF:
            raise InvalidLookup(f"at: at most {MAX_AS_OF} ids per read", field="at")
        columns = [c for c in (request.args.get("columns") or "").split(",") if c]
        rows = profiles.as_of(table, key=request.args.get("key", ""), time=request.args.get("time", ""),
                              wanted=wanted, columns=columns, zone=request.args.get("zone") or "UTC")  # fmt: skip
        return {"rows": [{k: _json_value(v) for k, v in row.items()} for row in rows]}

    @app.get("/v1/tables/<table>/lineage")
    @app.doc(tags=["analysis"], summary="Tables this one was built from, and tables built from it.")
    def table_lineage(table: str) -> dict[str, Any]:
        return lineage_view(profiles.lineage(table))

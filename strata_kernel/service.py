"""Service scaffolding shared by every deployable's ``create_app()``.

Gives each service the same operational surface: ``/healthz`` (the process is alive), ``/readyz``
(its dependencies and warm-up are done), ``/metrics`` (Prometheus), an OpenAPI document at
``/openapi.json`` (APIFlask), JSON errors without stack traces, and request ids across services.
"""

from __future__ import annotations

import contextvars
import logging
import math
import os
import re
import time
from collections.abc import Callable, Iterable
from typing import Any

from apiflask import APIFlask, HTTPError
from flask import Response, g, jsonify, request, send_from_directory
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest, multiprocess
from prometheus_client.registry import Collector
from werkzeug.exceptions import HTTPException, InternalServerError

from strata_kernel.access import AccessMetrics, document_security, install_access_control
from strata_kernel.contracts.auth import CallerDirectory
from strata_kernel.contracts.deadline import DEADLINE_MS, Deadline
from strata_kernel.deadlines import deadline_var
from strata_kernel.docs_assets import DOCS_ASSETS_PATH, swagger_ui_files
from strata_kernel.errors import StrataError, Unavailable
from strata_kernel.hook_marks import lean_covered
from strata_kernel.inputs import install_input_checks, is_valid_header
from strata_kernel.logs import REQUEST_ID_HEADER, new_request_id, request_id_var
from strata_kernel.metrics import HttpMetrics, method_label
from strata_kernel.readiness import ReadinessCheck, run_check
from strata_kernel.shedding import RETRY_AFTER_SECONDS, SHED_AFTER_SECONDS, queue_wait

log = logging.getLogger(__name__)

#: What a service not ready yet is busy with, shown by ``strata run`` while it waits (docs/contracts.md,
#: "Readiness"): ``{"state": "loading" | "failed", "step": str, "done": int, "total": int}``. "failed" means
#: waiting will not help (the reasons say why); a change of ``step`` or ``done`` is progress.
ProgressReport = Callable[[], dict[str, Any] | None]

_OPS_PATHS = frozenset({"/healthz", "/readyz", "/metrics", f"{DOCS_ASSETS_PATH}/<path:filename>"})


def create_service_app(
    component: str,
    *,
    title: str,
    readiness_checks: Iterable[ReadinessCheck] = (),
    registry: CollectorRegistry | None = None,
    description: str = "",
    callers: CallerDirectory | None = None,
) -> APIFlask:
    """Build the Flask app every deployable starts from; the deployable then registers its routes.

    ``callers`` holds the credentials the service accepts (``settings.caller_directory()``); without it no
    caller is known, so every call that needs a credential is refused (strata_kernel.access).
    """
    app = APIFlask(component, title=title, version="1.0", spec_path="/openapi.json", docs_path="/docs")
    app.config["VALIDATION_ERROR_STATUS_CODE"] = 400
    app.config["DESCRIPTION"] = description
    app.json.sort_keys = False  # type: ignore[attr-defined]
    registry = registry if registry is not None else CollectorRegistry()
    metrics = HttpMetrics.create(component, registry)
    app.extensions["strata.registry"] = registry
    app.extensions["strata.live_registry"] = CollectorRegistry(auto_describe=True)
    app.extensions["strata.http_metrics"] = metrics
    app.extensions["strata.component"] = component
    checks = list(readiness_checks)
    app.extensions["strata.readiness_checks"] = checks

    _install_request_hooks(app, component, metrics)
    install_access_control(app, callers or CallerDirectory(None), AccessMetrics.create(component, registry))
    install_input_checks(app)
    _install_error_handlers(app)
    _install_ops_routes(app, registry, metrics, checks)
    _install_docs_assets(app)
    app.spec_processor(lambda spec: document_security(spec, app))
    return app


def add_readiness_check(app: APIFlask, check: ReadinessCheck) -> None:
    app.extensions["strata.readiness_checks"].append(check)


def add_scrape_time_collector(app: APIFlask, collector: Collector) -> None:
    """A collector computed when ``/metrics`` is scraped (a freshness, a queue length), not a stored value: it is
    answered alongside the multiprocess files of several gunicorn workers, which ignore callback gauges."""
    app.extensions["strata.live_registry"].register(collector)


def set_progress_report(app: APIFlask, report: ProgressReport) -> None:
    """While not ready, ``/readyz`` carries ``progress``: what the service is loading (see ProgressReport)."""
    app.extensions["strata.progress"] = report


def _install_request_hooks(app: APIFlask, component: str, metrics: HttpMetrics) -> None:
    @app.before_request
    @lean_covered
    def _start() -> None:
        g.strata_started = time.perf_counter()
        g.strata_request_id, g.strata_token = open_request(request.headers.get(REQUEST_ID_HEADER))
        g.strata_deadline_token = open_deadline(request.headers.get(DEADLINE_MS))
        refuse_if_deadline_passed()

    @app.before_request
    @lean_covered
    def _shed() -> None:
        """Answer at once what waited too long for a thread (strata_kernel.shedding): the queue drains."""
        rule = request.url_rule.rule if request.url_rule is not None else None
        if rule is not None and rule not in _OPS_PATHS:
            shed_if_waited_too_long(component, metrics, rule)

    @app.after_request
    @lean_covered
    def _finish(response: Response) -> Response:
        rule = request.url_rule.rule if request.url_rule is not None else "unmatched"
        if rule not in _OPS_PATHS:
            started = g.get("strata_started", time.perf_counter())
            count_request(metrics, rule, request.method, response.status_code, started)
        response.headers[REQUEST_ID_HEADER] = g.get("strata_request_id", "-")
        return response

    @app.teardown_request
    @lean_covered
    def _reset(_exc: BaseException | None) -> None:
        close_request(g.pop("strata_token", None), g.pop("strata_deadline_token", None))


def open_request(given_id: str | None) -> tuple[str, RequestIdToken]:
    """Set the request's id (the caller's, if valid; else a new one) for everything it runs (log lines, calls it
    makes). Undo with :func:`close_request`."""
    # an id that fails the header check (strata_kernel.inputs) is refused; it must not reach logs or replies
    request_id = given_id if given_id and is_valid_header(REQUEST_ID_HEADER, given_id) else new_request_id()
    return request_id, request_id_var.set(request_id)


def open_deadline(header: str | None) -> DeadlineToken:
    """Set the caller's deadline (``X-Deadline-Ms``), which bounds every call this request makes
    (strata_kernel.contracts.deadline); 400 when malformed. Undo with :func:`close_request`."""
    return deadline_var.set(Deadline.from_wire(header))


def refuse_if_deadline_passed() -> None:
    deadline = deadline_var.get()
    if deadline is not None and deadline.remaining() <= 0:
        raise Unavailable("the caller's deadline passed before the request was handled", code="deadline_exceeded")


def close_request(id_token: RequestIdToken | None, deadline_token: DeadlineToken | None) -> None:
    if id_token is not None:
        request_id_var.reset(id_token)
    if deadline_token is not None:
        deadline_var.reset(deadline_token)


def shed_if_waited_too_long(component: str, metrics: HttpMetrics, rule: str) -> None:
    waited = queue_wait()
    if waited > SHED_AFTER_SECONDS:
        metrics.shed.labels(rule).inc()
        raise Unavailable(f"{component} is overloaded: the request waited {waited:.1f}s for a worker",
                          code="overloaded", retry_after=RETRY_AFTER_SECONDS)  # fmt: skip


def count_request(metrics: HttpMetrics, rule: str, method: str, status: int, started: float) -> None:
    metrics.latency.labels(rule).observe(time.perf_counter() - started)
    metrics.requests.labels(rule, method_label(method), str(status)).inc()


def add_response_headers(app: APIFlask, endpoint: str, headers_for: ResponseHeaders) -> None:
    """Successful answers (status < 400) of ``endpoint`` carry the headers ``headers_for(path parameters)`` gives,
    whether Flask or a lean route (strata_kernel.lean) serves them."""
    app.extensions.setdefault(RESPONSE_HEADERS, {}).setdefault(endpoint, []).append(headers_for)

    @app.after_request
    @lean_covered
    def _add(response: Response) -> Response:
        if request.endpoint == endpoint and response.status_code < 400:
            for name, value in headers_for(request.view_args or {}):
                response.headers.add(name, value)
        return response


def observe_answers(app: APIFlask, endpoint: str, observe: Callable[[int], None]) -> None:
    """Call ``observe(status)`` with the status of every answer of ``endpoint`` (refusals included), whether Flask or
    a lean route (strata_kernel.lean) serves it."""
    app.extensions.setdefault(ANSWER_OBSERVERS, {}).setdefault(endpoint, []).append(observe)

    @app.after_request
    @lean_covered
    def _observe(response: Response) -> Response:
        if request.endpoint == endpoint:
            observe(response.status_code)
        return response


#: app.extensions key: endpoint -> the observers of its answers' statuses
ANSWER_OBSERVERS = "strata.answer_observers"
#: the extra headers of an endpoint's successful answers, from its path parameters
ResponseHeaders = Callable[[dict[str, Any]], Iterable[tuple[str, str]]]
#: app.extensions key: endpoint -> its ResponseHeaders
RESPONSE_HEADERS = "strata.response_headers"
RequestIdToken = contextvars.Token[str]
DeadlineToken = contextvars.Token[Deadline | None]


#: an absolute path on a server (under a usual top directory); error bodies name only its last part
_SERVER_PATH = re.compile(
    r"(?<![\w.])/(?:tmp|work|home|srv|usr|var|etc|opt|root|run|mnt|data|app|proc)(?:/[^\s'\"():,;]+)+"
)


def without_server_paths(text: str) -> str:
    """``"... '/work/x/var/mlflow/artifacts/7/model.ubj'"`` -> ``"... '.../model.ubj'"``: no error body shows where
    a server keeps its files."""
    return _SERVER_PATH.sub(lambda match: ".../" + match.group(0).rstrip("/").rsplit("/", 1)[-1], text)


def error_reply(
    status: int, code: str, message: str, field: str | None = None, retry_after: float | None = None
) -> tuple[int, dict[str, Any], dict[str, str]]:
    """The status, JSON body and headers of an error answer."""
    body: dict[str, Any] = {"code": code, "message": without_server_paths(message)}
    if field is not None:
        body["field"] = field
    headers = {"Retry-After": str(max(1, math.ceil(retry_after)))} if retry_after is not None else {}
    return status, {"error": body}, headers


def reply_to_error(error: Exception, *, body_is_json: bool) -> tuple[int, dict[str, Any], dict[str, str]]:
    """The answer to an error a request raised (a StrataError, a werkzeug HTTP error, or anything else: 500)."""
    if isinstance(error, StrataError):
        if error.status >= 500:
            log.warning("%s: %s", error.code, error.message)
        return error_reply(error.status, error.code, error.message, error.field, error.retry_after)
    if isinstance(error, InternalServerError) and error.original_exception is not None:
        # Flask's wrapper of an error raised after the view (its answer not JSON): Flask logged it already
        return error_reply(500, "internal_error", f"internal error (request {request_id_var.get()})")
    if isinstance(error, HTTPException):
        if error.code == 400 and body_is_json:
            return error_reply(400, "invalid_request", "body: not valid JSON", "body")
        codes = {400: "bad_request", 404: "not_found", 405: "method_not_allowed", 413: "request_too_large"}
        code = codes.get(error.code or 500, "http_error")
        return error_reply(error.code or 500, code, error.description or error.name)
    log.exception("unhandled error", exc_info=error)
    return error_reply(500, "internal_error", f"internal error (request {request_id_var.get()})")


def _error_response(reply: tuple[int, dict[str, Any], dict[str, str]]) -> tuple[Response, int]:
    status, body, headers = reply
    response = jsonify(body)
    response.headers.update(headers)
    return response, status


def _install_error_handlers(app: APIFlask) -> None:
    @app.error_processor
    def _apiflask_error(error: HTTPError) -> tuple[Response, int]:
        if error.status_code == 400 and isinstance(error.detail, dict) and error.detail:
            field, message = first_validation_problem(error.detail)
            return _error_response(error_reply(400, "invalid_request", f"{field}: {message}", field))
        code = "not_found" if error.status_code == 404 else "http_error"
        return _error_response(error_reply(error.status_code, code, str(error.message)))

    # one handler, reply_to_error tells the errors apart. Registered for Exception (StrataError and anything else)
    # and again for werkzeug's HTTPException: APIFlask registers its own for that class, which would win
    @app.errorhandler(HTTPException)
    @app.errorhandler(Exception)
    def _error(error: Exception) -> tuple[Response, int]:
        return _error_response(reply_to_error(error, body_is_json=request.is_json))


def first_validation_problem(detail: dict[str, Any]) -> tuple[str, str]:
    """Flatten webargs' ``{"json": {"items": {"0": {"qty": ["msg"]}}}}`` to ``("items.0.qty", "msg")``."""
    node: Any = detail
    path: list[str] = []
    while isinstance(node, dict) and node:
        key = sorted(node, key=str)[0]
        if not path and key in {"json", "query", "form", "headers", "path", "view_args"}:
            node = node[key]
            continue
        if key == "_schema":
            node = node[key]
            break
        path.append(str(key))
        node = node[key]
    message = node[0] if isinstance(node, list) and node else str(node)
    return ".".join(path) or "body", str(message)


def _install_ops_routes(
    app: APIFlask, registry: CollectorRegistry, metrics: HttpMetrics, checks: list[ReadinessCheck]
) -> None:
    @app.get("/healthz")
    @app.doc(tags=["ops"], summary="Liveness: the process answers.")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz")
    @app.doc(tags=["ops"], summary="Readiness: dependencies reachable and warm-up done.")
    def readyz() -> tuple[dict[str, object], int]:
        problems = [without_server_paths(reason) for check in checks if (reason := run_check(check)) is not None]
        metrics.ready.set(0 if problems else 1)
        if problems:
            body: dict[str, object] = {"status": "not ready", "reasons": problems}
            progress = _progress(app.extensions.get("strata.progress"))
            if progress is not None:
                body["progress"] = progress
            return body, 503
        return {"status": "ready"}, 200

    @app.get("/metrics")
    @app.doc(hide=True)
    def prometheus_metrics() -> Response:
        body = generate_latest(_scrape_registry(registry)) + generate_latest(app.extensions["strata.live_registry"])
        return Response(body, mimetype=CONTENT_TYPE_LATEST)


def _install_docs_assets(app: APIFlask) -> None:
    """``/docs`` loads Swagger UI from the service itself: the files shipped by the flask-swagger-ui package."""
    assets = swagger_ui_files()
    if assets is None:  # a declared dependency: an install without it is broken
        raise ImportError("flask-swagger-ui is not installed: /docs serves the Swagger UI files it ships")
    app.config.update(
        SWAGGER_UI_CSS=f"{DOCS_ASSETS_PATH}/swagger-ui.css",
        SWAGGER_UI_BUNDLE_JS=f"{DOCS_ASSETS_PATH}/swagger-ui-bundle.js",
        SWAGGER_UI_STANDALONE_PRESET_JS=f"{DOCS_ASSETS_PATH}/swagger-ui-standalone-preset.js",
        DOCS_FAVICON=f"{DOCS_ASSETS_PATH}/favicon-32x32.png",
        SWAGGER_UI_CONFIG={"validatorUrl": None},  # no badge fetched from validator.swagger.io
    )

    @app.get(f"{DOCS_ASSETS_PATH}/<path:filename>")
    @app.doc(hide=True)
    def docs_asset(filename: str) -> Response:
        return send_from_directory(assets, filename, max_age=86400)


def _scrape_registry(registry: CollectorRegistry) -> CollectorRegistry:
    """Under several gunicorn workers (strata_kernel.serving), aggregate every worker's metric files."""
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return registry
    merged = CollectorRegistry()
    multiprocess.MultiProcessCollector(merged)
    return merged


def _progress(report: ProgressReport | None) -> dict[str, Any] | None:
    try:
        return report() if report is not None else None
    except Exception:  # progress is a courtesy: never turn a 503 into a 500
        log.exception("progress report failed")
        return None

"""A plain WSGI app of a few read-only routes, on the standard library: what the sidecar serves instead of the
kernel's Flask app (``strata_kernel.service.create_service_app``).

Flask, Werkzeug, Jinja2, marshmallow and apispec were about 10 MB of a probe-only sidecar's 50 MB, for five GET
routes; nothing here imports them (a test reads the sidecar's import log). What a caller sees is kept: the ops
routes (``/healthz``, ``/readyz`` with its reasons, ``/metrics``), JSON errors ``{"error": {"code", "message"}}``,
405 with ``Allow``, HEAD and OPTIONS, an ``X-Request-ID`` on every answer, and the request metrics
(``strata_<component>_http_*``, ``strata_<component>_ready``) under the same names.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from strata_kernel.contracts.headers import MAX_REQUEST_ID_CHARS, is_header_text
from strata_kernel.logs import REQUEST_ID_HEADER, new_request_id, request_id_var
from strata_kernel.metrics import HttpMetrics, method_label
from strata_kernel.readiness import ReadinessCheck, run_check

log = logging.getLogger(__name__)

JSON = "application/json"
_ALLOWED = "GET, HEAD, OPTIONS"
NOT_FOUND = (
    "The requested URL was not found on the server. If you entered the URL manually please check your spelling "
    "and try again."
)
Environ = dict[str, Any]
StartResponse = Callable[..., Any]


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes | Iterable[bytes] = b""
    content_type: str = JSON
    headers: tuple[tuple[str, str], ...] = ()


#: a route's view: the request's WSGI environ -> the reply
View = Callable[[Environ], Reply]


def json_reply(value: object, status: int = 200) -> Reply:
    """Compact JSON with a closing newline, keys in the order given (as the services' Flask JSON)."""
    return Reply(status, (json.dumps(value, separators=(",", ":")) + "\n").encode())


def error_reply(status: int, code: str, message: str, headers: tuple[tuple[str, str], ...] = ()) -> Reply:
    return Reply(status, json_reply({"error": {"code": code, "message": message}}).body, headers=headers)


@dataclass(frozen=True)
class _Route:
    view: View
    counted: bool  # in the request metrics (the ops routes are not, as in every service)


class PlainApp:
    """Routes by exact path, and by path prefix for files; every route answers GET, HEAD and OPTIONS.

    ``extensions`` is where the kernel keeps an app's background loops (strata_kernel.background) and the server
    finds them, as on a Flask app.
    """

    def __init__(self, component: str, registry: CollectorRegistry) -> None:
        self.extensions: dict[str, Any] = {}
        self.registry = registry
        self.metrics = HttpMetrics.create(component, registry)
        self._routes: dict[str, _Route] = {}
        self._prefixes: dict[str, _Route] = {}

    def route(self, path: str, view: View, *, counted: bool = True) -> None:
        self._routes[path] = _Route(view, counted)

    def files(self, prefix: str, view: View) -> None:
        """``view`` answers every path under ``prefix`` (``prefix + "/<path:filename>"``), uncounted."""
        self._prefixes[prefix.rstrip("/") + "/"] = _Route(view, counted=False)

    def add_ops_routes(self, checks: list[ReadinessCheck]) -> None:
        """``/healthz``, ``/readyz`` (ready when every check passes), ``/metrics``: as every service answers them."""
        self.route("/healthz", lambda _environ: json_reply({"status": "ok"}), counted=False)
        self.route("/readyz", lambda _environ: self._readiness(checks), counted=False)
        self.route("/metrics", lambda _environ: Reply(200, generate_latest(self.registry), CONTENT_TYPE_LATEST),
                   counted=False)  # fmt: skip

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        started = time.perf_counter()
        given = environ.get("HTTP_X_REQUEST_ID", "")
        request_id = given if 0 < len(given) <= MAX_REQUEST_ID_CHARS and is_header_text(given) else new_request_id()
        token = request_id_var.set(request_id)
        method = environ.get("REQUEST_METHOD", "GET")
        endpoint, route = self._match(environ.get("PATH_INFO") or "/")
        try:
            reply = error_reply(404, "not_found", NOT_FOUND) if route is None else self._answer(route, method, environ)
        finally:
            request_id_var.reset(token)
        if route is None or route.counted:
            label = endpoint if route is not None and reply.status != 405 else "unmatched"
            self.metrics.latency.labels(label).observe(time.perf_counter() - started)
            self.metrics.requests.labels(label, method_label(method), str(reply.status)).inc()
        return _respond(reply, request_id, method, start_response)

    def _match(self, path: str) -> tuple[str | None, _Route | None]:
        if path in self._routes:
            return path, self._routes[path]
        for prefix, route in self._prefixes.items():
            if path.startswith(prefix) and len(path) > len(prefix):
                return f"{prefix}<path:filename>", route
        return None, None

    def _answer(self, route: _Route, method: str, environ: Environ) -> Reply:
        if method == "OPTIONS":
            return Reply(200, content_type="text/plain; charset=utf-8", headers=(("Allow", _ALLOWED),))
        if method not in ("GET", "HEAD"):
            allow = (("Allow", _ALLOWED),)
            return error_reply(405, "method_not_allowed", "The method is not allowed for the requested URL.", allow)
        try:
            return route.view(environ)
        except Exception:  # a client never sees a stack trace
            log.exception("unhandled error")
            return error_reply(500, "internal_error", f"internal error (request {request_id_var.get()})")

    def _readiness(self, checks: list[ReadinessCheck]) -> Reply:
        problems = [reason for check in checks if (reason := run_check(check)) is not None]
        self.metrics.ready.set(0 if problems else 1)
        if problems:
            return json_reply({"status": "not ready", "reasons": problems}, 503)
        return json_reply({"status": "ready"})


def _respond(reply: Reply, request_id: str, method: str, start_response: StartResponse) -> Iterable[bytes]:
    headers = [("Content-Type", reply.content_type), *reply.headers, (REQUEST_ID_HEADER, request_id)]
    body = reply.body
    if isinstance(body, bytes):
        headers.append(("Content-Length", str(len(body))))
        body = [body]
    start_response(f"{reply.status} {HTTPStatus(reply.status).phrase}", headers)
    if method == "HEAD":
        _close(body)
        return []
    return body


def _close(body: Iterable[bytes]) -> None:
    close = getattr(body, "close", None)
    if close is not None:
        close()


def file_chunks(path: str, chunk_bytes: int = 64 * 1024) -> Iterator[bytes]:
    """A file's bytes a chunk at a time (Swagger UI's bundle is 1.4 MB: not held whole in the sidecar's memory)."""
    with open(path, "rb") as handle:
        while chunk := handle.read(chunk_bytes):
            yield chunk

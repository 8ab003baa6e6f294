"""Lean routes: a service's hot JSON routes served without Flask, with the same checks and answers.

Through Flask and the kernel's hooks, a small JSON route cost about 430 us of CPU more than its view's own work
(the engine's predict route in-process: 831 us against 402 us), and an ETD quote or a chatbot question crosses
three services.
Most of it is Flask's per-request machinery (request context, URL adapter, request and response objects), not
the checks. A lean route runs the same checks, as the same functions the Flask hooks call, in the same order:

    request id and deadline -> load shedding -> the caller's credential -> input checks -> the view -> the answer
    (JSON, or the same JSON error), its metrics, the ``X-Request-Id`` header and the endpoint's response headers.

It takes only the plain case: a POST with a JSON body of a stated length (``Content-Type: application/json``, a
``Content-Length``, no query string, a path of plain ASCII). Anything else (a chunked body, ``Expect``, a query,
another media type) goes to Flask, which answers every case. The route's Flask view stays registered: it is the
documented operation (OpenAPI) and the fallback. Its lean twin is a function of :class:`LeanCall` that shares the
view's code.

An app with a request hook this module does not do the work of (``strata_kernel.hook_marks``) is served by Flask
only: a lean route would skip the hook.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from flask import Flask
from marshmallow import Schema, ValidationError
from werkzeug.exceptions import BadRequest as WerkzeugBadRequest
from werkzeug.exceptions import ClientDisconnected
from werkzeug.http import HTTP_STATUS_CODES

from strata_kernel.access import ACCESS, AccessMetrics, authorize, policy_of
from strata_kernel.contracts.auth import AUTHORIZATION, CallerDirectory
from strata_kernel.contracts.deadline import DEADLINE_MS
from strata_kernel.errors import BadRequest
from strata_kernel.hook_marks import is_lean_covered
from strata_kernel.inputs import NOT_JSON, check_body_size, check_header_values, check_texts, checked_json, limit_of
from strata_kernel.logs import REQUEST_ID_HEADER, caller_var
from strata_kernel.metrics import HttpMetrics
from strata_kernel.service import (
    ANSWER_OBSERVERS,
    RESPONSE_HEADERS,
    close_request,
    count_request,
    first_validation_problem,
    open_deadline,
    open_request,
    refuse_if_deadline_passed,
    reply_to_error,
    shed_if_waited_too_long,
)

log = logging.getLogger(__name__)

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


@dataclass(frozen=True, slots=True)
class LeanCall:
    """What a lean view gets: the path parameters, the JSON body (None when malformed, as Flask's
    ``get_json(silent=True)``) and the request's headers."""

    args: dict[str, str]
    body: Any
    environ: dict[str, Any]

    def header(self, name: str) -> str | None:
        return self.environ.get(_environ_key(name))


LeanView = Callable[[LeanCall], Any]


@dataclass(frozen=True)
class _Route:
    endpoint: str
    rule: str
    pattern: re.Pattern[str]
    view: LeanView
    accepted: frozenset[str] | None
    body_limit: int
    #: the Flask view declares its JSON body (APIFlask's ``@app.input``), whose parser refuses malformed JSON with
    #: a 400 before the view runs; a view without one reads None
    refuses_malformed_json: bool


class LeanRouter:
    """WSGI middleware in front of a Flask app (``app.wsgi_app``): lean routes first, Flask for everything else."""

    def __init__(self, app: Flask) -> None:
        self._app = app
        self._flask = app.wsgi_app
        # what create_service_app set up, read once here rather than on every request
        self._component: str = app.extensions["strata.component"]
        self._metrics: HttpMetrics = app.extensions["strata.http_metrics"]
        self._access: tuple[CallerDirectory, AccessMetrics] = app.extensions[ACCESS]
        self._routes: list[_Route] = []
        self.enabled = True  # False: Flask serves everything (tests compare both paths)
        self._hooks_checked = False

    def add(self, endpoint: str, view: LeanView) -> None:
        """Serve ``endpoint`` (a POST route already registered on the app) with ``view`` when the request is plain."""
        rules = [rule for rule in self._app.url_map.iter_rules() if rule.endpoint == endpoint]
        if len(rules) != 1 or "POST" not in (rules[0].methods or ()):
            raise ValueError(f"lean route {endpoint!r}: expected one POST rule, found {[r.rule for r in rules]}")
        flask_view = self._app.view_functions[endpoint]
        self._routes.append(
            _Route(
                endpoint=endpoint,
                rule=rules[0].rule,
                pattern=_pattern(rules[0].rule),
                view=view,
                accepted=policy_of(flask_view, "POST"),
                body_limit=limit_of(flask_view),
                refuses_malformed_json=getattr(flask_view, "_spec", {}).get("body") is not None,
            )
        )

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        matched = self._match(environ) if self.enabled else None
        if matched is None:
            return self._flask(environ, start_response)
        route, args = matched
        return self._serve(route, args, environ, start_response)

    def _match(self, environ: dict[str, Any]) -> tuple[_Route, dict[str, str]] | None:
        if (
            environ.get("REQUEST_METHOD") != "POST"
            or environ.get("QUERY_STRING")
            or environ.get("SCRIPT_NAME")
            or "HTTP_TRANSFER_ENCODING" in environ
            or "HTTP_EXPECT" in environ
            or not _is_json(environ.get("CONTENT_TYPE", ""))
            or not str(environ.get("CONTENT_LENGTH", "")).isdecimal()
        ):
            return None
        path = environ.get("PATH_INFO", "")
        if not path.isascii():  # WSGI's latin-1 text: werkzeug decodes it as UTF-8 first
            return None
        for route in self._routes:
            found = route.pattern.fullmatch(path)
            if found is not None:
                return (route, found.groupdict()) if self._hooks_known() else None
        return None

    def _hooks_known(self) -> bool:
        """Once: whether every request hook of the app is one whose work a lean route does too."""
        if not self._hooks_checked:
            unknown = [hook for hook in _request_hooks(self._app) if not is_lean_covered(hook)]
            if unknown:
                names = ", ".join(getattr(hook, "__qualname__", repr(hook)) for hook in unknown)
                log.error("lean routes off: the app has request hooks they would skip (%s); Flask serves them", names)
                self.enabled = False
            self._hooks_checked = True
        return self.enabled

    def _serve(
        self, route: _Route, args: dict[str, str], environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        started = time.perf_counter()
        request_id, id_token = open_request(environ.get(_REQUEST_ID_KEY))
        deadline_token = caller_token = None
        try:
            try:
                deadline_token = open_deadline(environ.get(_DEADLINE_KEY))
                refuse_if_deadline_passed()
                shed_if_waited_too_long(self._component, self._metrics, route.rule)
                if route.accepted is not None:
                    caller_token = caller_var.set(self._authorize(route, environ))
                call = self._checked_call(route, args, environ)
                status, payload = 200, self._dumps(route.view(call))
                extra = self._response_headers(route, args)
            except Exception as error:  # the same answers as the kernel's Flask error handlers
                status, body, error_headers = reply_to_error(error, body_is_json=True)
                payload, extra = self._dumps(body), list(error_headers.items())
            count_request(self._metrics, route.rule, "POST", status, started)
            for observe in self._app.extensions.get(ANSWER_OBSERVERS, {}).get(route.endpoint, ()):
                observe(status)
        finally:
            if caller_token is not None:
                caller_var.reset(caller_token)
            close_request(id_token, deadline_token)
        headers = [
            ("Content-Type", "application/json"),
            ("Content-Length", str(len(payload))),
            *extra,
            (REQUEST_ID_HEADER, request_id),
        ]
        start_response(f"{status} {HTTP_STATUS_CODES.get(status, 'UNKNOWN').upper()}", headers)  # as werkzeug
        return [payload]

    def _authorize(self, route: _Route, environ: dict[str, Any]) -> str:
        directory, access = self._access
        assert route.accepted is not None
        return authorize(directory, access, route.accepted, environ.get(_AUTHORIZATION_KEY), "POST", route.rule,
                         environ.get("REMOTE_ADDR"))  # fmt: skip

    @staticmethod
    def _checked_call(route: _Route, args: dict[str, str], environ: dict[str, Any]) -> LeanCall:
        """The input checks (strata_kernel.inputs), in the Flask hook's order; then the body, read and parsed."""
        check_header_values(lambda name: environ.get(_environ_key(name)))
        length = int(environ["CONTENT_LENGTH"])
        check_body_size(length, route.body_limit)
        check_texts(args.items())
        data = environ["wsgi.input"].read(length) if length else b""
        if len(data) < length:
            raise ClientDisconnected()
        document = checked_json(data) if data else NOT_JSON
        if document is NOT_JSON and data:  # a scalar, or malformed
            document = _scalar_json(data, refuse_malformed=route.refuses_malformed_json)
        return LeanCall(args, None if document is NOT_JSON else document, environ)

    def _response_headers(self, route: _Route, args: dict[str, str]) -> list[tuple[str, str]]:
        providers = self._app.extensions.get(RESPONSE_HEADERS, {}).get(route.endpoint, ())
        return [header for headers_for in providers for header in headers_for(args)]

    def _dumps(self, body: Any) -> bytes:
        """As Flask's JSON provider answers a view's dict: compact unless the app is in debug mode."""
        provider = self._app.json
        compact = getattr(provider, "compact", None)
        if (compact is None and self._app.debug) or compact is False:
            return f"{provider.dumps(body, indent=2)}\n".encode()
        return f"{provider.dumps(body, separators=(',', ':'))}\n".encode()


def load_input(schema: Schema, document: Any) -> Any:
    """``document`` loaded with the marshmallow ``schema`` the Flask view declares (APIFlask's ``@app.input``); a
    document it refuses is the 400 APIFlask gives (``invalid_request`` naming the first field)."""
    try:
        return schema.load(document)
    except ValidationError as error:
        field, message = first_validation_problem({"json": error.messages})
        raise BadRequest(f"{field}: {message}", code="invalid_request", field=field) from None


def install_lean_routes(app: Flask, views: dict[str, LeanView]) -> LeanRouter:
    """Serve these endpoints (endpoint name -> lean view) lean; call after every route and hook is registered."""
    router = LeanRouter(app)
    for endpoint, view in views.items():
        router.add(endpoint, view)
    app.wsgi_app = router  # type: ignore[method-assign]
    app.extensions["strata.lean_router"] = router
    return router


def _environ_key(header: str) -> str:
    """Where WSGI puts a request header: ``X-Request-ID`` -> ``HTTP_X_REQUEST_ID``."""
    return "HTTP_" + header.upper().replace("-", "_")


_AUTHORIZATION_KEY = _environ_key(AUTHORIZATION)
_REQUEST_ID_KEY = _environ_key(REQUEST_ID_HEADER)
_DEADLINE_KEY = _environ_key(DEADLINE_MS)
_CONVERTER = re.compile(r"<(?:(\w+):)?(\w+)>")


def _pattern(rule: str) -> re.Pattern[str]:
    """``/v1/models/<name>/predict`` -> a regex with one group per parameter; a parameter is one path segment."""
    parts, position = [], 0
    for found in _CONVERTER.finditer(rule):
        converter = found.group(1) or "default"
        if converter not in ("default", "string"):
            raise ValueError(f"lean route {rule!r}: only plain <name> parameters, not {converter}")
        parts.append(re.escape(rule[position : found.start()]))
        parts.append(f"(?P<{found.group(2)}>[^/]+)")
        position = found.end()
    parts.append(re.escape(rule[position:]))
    return re.compile("".join(parts))


def _is_json(content_type: str) -> bool:
    return content_type.split(";", 1)[0].strip().lower() == "application/json"


def _scalar_json(data: bytes, *, refuse_malformed: bool) -> Any:
    """A JSON scalar body; a malformed one is None (``get_json(silent=True)``) or, where APIFlask parses the body
    before the view, werkzeug's 400 (the kernel answers it "body: not valid JSON")."""
    try:
        return json.loads(data)
    except ValueError:
        if refuse_malformed:
            raise WerkzeugBadRequest() from None
        return None


def _request_hooks(app: Flask) -> list[Callable[..., Any]]:
    hooks: list[Callable[..., Any]] = []
    for registry in (app.before_request_funcs, app.after_request_funcs, app.teardown_request_funcs,
                     app.url_value_preprocessors, app.url_default_functions):  # fmt: skip
        for functions in registry.values():
            hooks.extend(functions)
    return hooks

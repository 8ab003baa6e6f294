"""strata_kernel.lean: a lean route answers every request as the same route through Flask and the kernel's hooks
does (status, JSON body, headers, metrics, log context), and hands what it does not take to Flask."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from apiflask import APIFlask
from flask import Response, request
from werkzeug.test import TestResponse

from strata_kernel.access import callers
from strata_kernel.contracts.auth import OPERATOR, CallerDirectory, service_credential
from strata_kernel.deadlines import current as current_deadline
from strata_kernel.errors import BadRequest, Unavailable
from strata_kernel.inputs import body_limit
from strata_kernel.lean import LeanCall, LeanRouter, install_lean_routes
from strata_kernel.logs import caller_var, request_id_var
from strata_kernel.service import add_response_headers, create_service_app
from strata_kernel.shedding import set_queue_wait
from tests.support import counter_samples

BODY_LIMIT = 4096


def _score(name: str, body: Any, header: Any) -> dict[str, Any]:
    """The route's work, shared by its Flask view and its lean twin (as the deployables share theirs)."""
    if not isinstance(body, dict):
        raise BadRequest("body: expected a JSON object", field="body")
    if body.get("fail") == "unavailable":
        raise Unavailable("the store is down", retry_after=2.5)
    if body.get("fail") == "bug":
        raise RuntimeError("a bug in the view")
    if body.get("fail") == "not JSON":
        return {"at": object()}
    return {
        "name": name,
        "sum": sum(body.get("values", [])),
        "caller": caller_var.get(),
        "request_id": request_id_var.get(),
        "has_deadline": current_deadline() is not None,
        "routing_key": header("X-Routing-Key"),
        "text": body.get("text"),
    }


def _app(credentials: Path) -> tuple[APIFlask, LeanRouter, list[str]]:
    app = create_service_app("demo", title="Demo", callers=CallerDirectory(credentials, operator=lambda: "op"))
    served_by: list[str] = []

    @app.post("/v1/models/<name>/score")
    @callers("data_processing", OPERATOR)
    @body_limit(BODY_LIMIT)
    def score(name: str) -> dict[str, Any]:
        served_by.append("flask")
        return _score(name, request.get_json(silent=True), request.headers.get)

    def lean_score(call: LeanCall) -> dict[str, Any]:
        served_by.append("lean")
        return _score(call.args["name"], call.body, call.header)

    add_response_headers(app, "score", lambda args: [("Warning", f'299 demo "{args["name"]} is deprecated"')])
    router = install_lean_routes(app, {"score": lean_score})
    return app, router, served_by


@pytest.fixture
def credentials(tmp_path: Path) -> Path:
    return tmp_path / "credentials"


def _as(credentials: Path, caller: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {service_credential(caller, credentials).token}"}


JSON = "application/json"

#: (case, path, body bytes, headers besides the credential, caller: None = no credential, "guess" = unknown token)
CASES: list[tuple[str, str, bytes, dict[str, str], str | None]] = [
    ("valid", "/v1/models/etd/score", b'{"values": [1, 2, 3], "text": "caf\\u00e9"}', {}, "data_processing"),
    ("operator", "/v1/models/etd/score", b'{"values": [4]}', {"X-Routing-Key": "order-7"}, "operator"),
    ("request id kept", "/v1/models/etd/score", b"{}", {"X-Request-Id": "req-42"}, "data_processing"),
    ("no credential", "/v1/models/etd/score", b"{}", {}, None),
    ("unknown token", "/v1/models/etd/score", b"{}", {}, "guess"),
    ("caller not accepted", "/v1/models/etd/score", b"{}", {}, "ui"),
    ("malformed JSON", "/v1/models/etd/score", b'{"values": [1,', {}, "data_processing"),
    ("JSON scalar", "/v1/models/etd/score", b'"text"', {}, "data_processing"),
    ("empty body", "/v1/models/etd/score", b"", {}, "data_processing"),
    ("too deep", "/v1/models/etd/score", b"[" * 40 + b"]" * 40, {}, "data_processing"),
    ("NUL in a string", "/v1/models/etd/score", b'{"text": "a\\u0000b"}', {}, "data_processing"),
    ("lone surrogate", "/v1/models/etd/score", b'{"text": "\\ud800"}', {}, "data_processing"),
    ("over the body limit", "/v1/models/etd/score", b'{"text": "' + b"x" * BODY_LIMIT + b'"}', {}, "data_processing"),
    ("NUL in the path", "/v1/models/e%00td/score", b"{}", {}, "data_processing"),
    ("bad request id", "/v1/models/etd/score", b"{}", {"X-Request-Id": "has space"}, "data_processing"),
    ("long routing key", "/v1/models/etd/score", b"{}", {"X-Routing-Key": "k" * 300}, "data_processing"),
    ("deadline given", "/v1/models/etd/score", b"{}", {"X-Deadline-Ms": "5000"}, "data_processing"),
    ("deadline passed", "/v1/models/etd/score", b"{}", {"X-Deadline-Ms": "0"}, "data_processing"),
    ("deadline malformed", "/v1/models/etd/score", b"{}", {"X-Deadline-Ms": "soon"}, "data_processing"),
    ("view unavailable", "/v1/models/etd/score", b'{"fail": "unavailable"}', {}, "data_processing"),
    ("view bug", "/v1/models/etd/score", b'{"fail": "bug"}', {"X-Request-Id": "req-bug"}, "data_processing"),
]

#: the test client sends an empty body without a Content-Length: not plain, so Flask's in both runs
NOT_PLAIN = {"empty body"}


def _send(app: APIFlask, credentials: Path, case: tuple[str, str, bytes, dict[str, str], str | None]) -> TestResponse:
    _name, path, body, headers, caller = case
    sent = dict(headers)
    if caller in ("guess", OPERATOR):
        sent["Authorization"] = "Bearer guessed" if caller == "guess" else "Bearer op"
    elif caller is not None:
        sent |= _as(credentials, caller)
    return app.test_client().post(path, data=body, headers=sent, content_type=JSON)


def _seen(response: TestResponse) -> dict[str, Any]:
    """What a caller sees: status, body and headers (a generated request id is only there, not equal)."""
    headers = {name: value for name, value in response.headers if name.lower() != "x-request-id"}
    return {"status": response.status, "body": response.get_json(silent=True), "headers": sorted(headers.items())}


def _without_generated_ids(seen: dict[str, Any]) -> dict[str, Any]:
    body = seen["body"]
    if isinstance(body, dict) and "request_id" in body and body["request_id"].startswith("req-") is False:
        body = {**body, "request_id": "<generated>"}
    return {**seen, "body": body}


@pytest.mark.parametrize("case", CASES, ids=[case[0] for case in CASES])
def test_a_lean_route_answers_as_the_flask_route_does(
    credentials: Path, case: tuple[str, str, bytes, dict[str, str], str | None], caplog: pytest.LogCaptureFixture
) -> None:
    answers, metric_changes, logged = {}, {}, {}
    for path_taken in ("flask", "lean"):
        app, router, served_by = _app(credentials)
        router.enabled = path_taken == "lean"
        registry = app.extensions["strata.registry"]
        before = counter_samples(registry)
        caplog.clear()
        with caplog.at_level(logging.WARNING):
            response = _send(app, credentials, case)
        after = counter_samples(registry)
        answers[path_taken] = _without_generated_ids(_seen(response))
        metric_changes[path_taken] = {key: value - before.get(key, 0.0) for key, value in after.items()
                                      if value != before.get(key, 0.0)}  # fmt: skip
        logged[path_taken] = [(record.levelname, record.getMessage().split(" from ")[0]) for record in caplog.records]
        assert response.headers.get("X-Request-Id"), "every answer names its request"
        if case[3].get("X-Request-Id") == "req-42":
            assert response.headers["X-Request-Id"] == "req-42"
        expected_view = "flask" if case[0] in NOT_PLAIN else path_taken
        assert set(served_by) <= {expected_view}, "the view of the path under test served it, if any view did"

    assert answers["lean"] == answers["flask"]
    assert metric_changes["lean"] == metric_changes["flask"]
    assert logged["lean"] == logged["flask"]
    assert caller_var.get() == "-" and request_id_var.get() == "-"  # nothing of the request stays behind


def test_an_answer_that_is_not_json_is_a_500_naming_the_request_on_both_paths(
    credentials: Path, caplog: pytest.LogCaptureFixture
) -> None:
    case = ("not JSON", "/v1/models/etd/score", b'{"fail": "not JSON"}', {"X-Request-Id": "req-x"}, "data_processing")
    for lean in (False, True):
        app, router, _served_by = _app(credentials)
        router.enabled = lean
        caplog.clear()

        answer = _send(app, credentials, case)

        assert answer.status_code == 500
        assert answer.get_json() == {"error": {"code": "internal_error", "message": "internal error (request req-x)"}}
        assert [record.levelname for record in caplog.records] == ["ERROR"]  # logged once, with its traceback
        assert caplog.records[0].exc_info is not None


def test_the_plain_cases_are_served_lean(credentials: Path) -> None:
    app, _router, served_by = _app(credentials)

    answer = _send(app, credentials, CASES[0])

    assert answer.status_code == 200 and served_by == ["lean"]
    assert answer.get_json()["caller"] == "data_processing" and answer.headers["Warning"].startswith("299 demo")


def test_a_refused_call_answers_with_the_request_id_and_never_reaches_the_view(credentials: Path) -> None:
    app, _router, served_by = _app(credentials)

    answer = app.test_client().post("/v1/models/etd/score", json={}, headers={"X-Request-Id": "req-9"})

    assert answer.status_code == 401 and answer.headers["X-Request-Id"] == "req-9" and served_by == []
    assert "Warning" not in answer.headers  # only successful answers carry the endpoint's response headers


@pytest.mark.parametrize(
    "how",
    [
        {"query_string": "debug=1", "json": {}},
        {"data": b"{}", "content_type": "text/plain"},
        {"data": b"{}", "content_type": JSON, "headers": {"Transfer-Encoding": "chunked"}},
    ],
    ids=["a query string", "another media type", "a chunked body"],
)
def test_what_is_not_plain_goes_to_flask(credentials: Path, how: dict[str, Any]) -> None:
    app, _router, served_by = _app(credentials)
    headers = {**how.pop("headers", {}), **_as(credentials, "data_processing")}

    answer = app.test_client().post("/v1/models/etd/score", headers=headers, **how)

    assert served_by in ([], ["flask"]) and answer.status_code in (200, 400)


def test_a_request_that_waited_too_long_for_a_thread_is_shed_alike(credentials: Path) -> None:
    answers = []
    for lean in (False, True):
        app, router, served_by = _app(credentials)
        router.enabled = lean
        with _waited(1.0):
            answer = _send(app, credentials, CASES[0])
        metrics = app.test_client().get("/metrics").get_data(as_text=True)
        answers.append((answer.status_code, answer.get_json(), answer.headers.get("Retry-After"), served_by))
        assert 'strata_demo_http_shed_total{endpoint="/v1/models/<name>/score"} 1.0' in metrics

    assert answers[0] == answers[1] and answers[0][0] == 503 and answers[0][2] == "1"


def test_an_app_with_a_request_hook_lean_routes_would_skip_is_served_by_flask(
    credentials: Path, caplog: pytest.LogCaptureFixture
) -> None:
    app, router, served_by = _app(credentials)
    stamped: list[str] = []

    @app.after_request
    def stamp(response: Response) -> Response:
        stamped.append(request.path)
        return response

    with caplog.at_level(logging.ERROR, logger="strata_kernel.lean"):
        answer = _send(app, credentials, CASES[0])

    assert answer.status_code == 200 and served_by == ["flask"] and stamped == ["/v1/models/etd/score"]
    assert not router.enabled and "stamp" in caplog.text


def test_only_a_post_route_with_plain_parameters_can_be_lean(credentials: Path) -> None:
    app = create_service_app("demo2", title="Demo", callers=CallerDirectory(credentials))

    @app.get("/v1/things/<name>")
    def thing(name: str) -> dict[str, str]:
        return {"name": name}

    @app.post("/v1/files/<path:name>")
    def upload(name: str) -> dict[str, str]:
        return {"name": name}

    with pytest.raises(ValueError, match="expected one POST rule"):
        install_lean_routes(app, {"thing": lambda call: {}})
    with pytest.raises(ValueError, match="only plain <name> parameters"):
        install_lean_routes(app, {"upload": lambda call: {}})


@contextmanager
def _waited(seconds: float) -> Iterator[None]:
    set_queue_wait(seconds)
    try:
        yield
    finally:
        set_queue_wait(0.0)

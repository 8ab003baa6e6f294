"""strata_kernel.inputs and safe_yaml: hostile bodies, strings and headers get a 4xx that says why, never a 500."""

from __future__ import annotations

import time

import pytest
from apiflask import APIFlask, Schema
from apiflask.fields import String
from flask import request
from flask.testing import FlaskClient

from strata_kernel.access import public
from strata_kernel.errors import BadRequest
from strata_kernel.inputs import MAX_JSON_DEPTH, body_limit
from strata_kernel.safe_yaml import load_untrusted
from strata_kernel.service import create_service_app
from tests.support import json_of


class Question(Schema):
    text = String(required=True)


@pytest.fixture
def client() -> FlaskClient:
    app: APIFlask = create_service_app("demo", title="Demo")

    @app.post("/echo")
    @public
    def echo() -> dict[str, object]:
        return {"got": request.get_json(silent=True)}

    @app.post("/ask")
    @public
    @app.input(Question, arg_name="body")
    def ask(body: dict[str, str]) -> dict[str, str]:
        return {"text": body["text"]}

    @app.post("/small")
    @public
    @body_limit(100)
    def small() -> dict[str, int]:
        return {"bytes": len(request.get_data())}

    @app.get("/items/<item_id>")
    def item(item_id: str) -> dict[str, str]:
        return {"id": item_id, "q": request.args.get("q", "")}

    return app.test_client()


@pytest.mark.parametrize("path", ["/echo", "/ask"])
def test_json_nested_beyond_the_limit_is_a_400_that_says_so(client: FlaskClient, path: str) -> None:
    for depth in (MAX_JSON_DEPTH + 1, 100_000):
        body = "[" * depth + "]" * depth
        response = client.post(path, data=body, content_type="application/json")
        assert response.status_code == 400, (path, depth)
        assert json_of(response)["error"]["code"] == "invalid_json"
        assert f"nested deeper than {MAX_JSON_DEPTH} levels" in json_of(response)["error"]["message"]
    ok = client.post("/echo", json={"a": [[{"b": 1}]]})
    assert ok.status_code == 200 and ok.json == {"got": {"a": [[{"b": 1}]]}}


def test_the_depth_limit_counts_the_innermost_value(client: FlaskClient) -> None:
    """The root is level 1 and a value inside the deepest container is one level below it."""

    def nested(lists: int, inner: str) -> str:
        return "[" * lists + inner + "]" * lists

    for lists, inner, status in [(MAX_JSON_DEPTH, "", 200), (MAX_JSON_DEPTH - 1, "1", 200),
                                 (MAX_JSON_DEPTH, "1", 400), (MAX_JSON_DEPTH - 1, '{"k": 1}', 400),
                                 (MAX_JSON_DEPTH - 1, "{}", 200)]:  # fmt: skip
        response = client.post("/echo", data=nested(lists, inner), content_type="application/json")
        assert response.status_code == status, (lists, inner)


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        (b'{"text": "where is \\ud800 my order"}', "text"),
        (b'{"text": "where is \\u0000 my order"}', "text"),
        (b'{"lines": [{"item_id": "\\udfff"}]}', "lines.0.item_id"),
        (b'{"\\ud800": 1}', "\ud800"),
        (b'{"text": "where is \xed\xa0\x80 my order"}', "text"),  # a surrogate in raw UTF-8, no escape
        ('{"lines": [{"item_id": "\\u0000"}]}'.encode("utf-16"), "lines.0.item_id"),  # a UTF-16 body
        ('{"text": "\\ud800"}'.encode("utf-32-le"), "text"),
    ],
)
def test_nul_and_lone_surrogates_are_refused_naming_the_field(client: FlaskClient, raw: bytes, field: str) -> None:
    for path in ("/echo", "/ask"):
        response = client.post(path, data=raw, content_type="application/json")
        assert response.status_code == 400
        assert json_of(response)["error"]["code"] == "invalid_text"
    assert client.post("/echo", json={"text": "naïve café 🍕"}).status_code == 200


def test_nul_in_a_path_or_query_is_refused(client: FlaskClient) -> None:
    assert client.get("/items/a%00b").status_code == 400
    assert json_of(client.get("/items/a?q=x%00y"))["error"]["field"] == "q"
    assert client.get("/items/caf%C3%A9?q=%F0%9F%8D%95").json == {"id": "café", "q": "🍕"}


def test_a_body_over_the_route_limit_is_a_413_before_it_is_read(client: FlaskClient) -> None:
    assert client.post("/small", data=b"x" * 100).json == {"bytes": 100}
    refused = client.post("/small", data=b"x" * 101)
    assert refused.status_code == 413
    assert json_of(refused)["error"]["code"] == "request_too_large"
    assert "limit of 100 bytes" in json_of(refused)["error"]["message"]
    started = time.perf_counter()
    assert client.post("/echo", data=b"[" + b"1," * (1024 * 1024) + b"1]").status_code == 413
    assert time.perf_counter() - started < 1.0


@pytest.mark.parametrize("value", ["réq-ü", "r" * 65, "a b", "a\tb"])
def test_request_ids_must_be_short_printable_ascii(client: FlaskClient, value: str) -> None:
    response = client.get("/items/1", headers={"X-Request-ID": value.encode().decode("latin-1")})
    assert response.status_code == 400
    assert json_of(response)["error"] == {
        "code": "invalid_header",
        "message": "X-Request-ID: must be 1..64 printable ASCII characters without spaces",
        "field": "X-Request-ID",
    }


def test_a_good_request_id_travels_back(client: FlaskClient) -> None:
    assert client.get("/items/1", headers={"X-Request-ID": "abc-123"}).headers["X-Request-ID"] == "abc-123"


def test_invented_methods_share_one_metric_series(client: FlaskClient) -> None:
    for index in range(50):
        assert client.open("/items/1", method=f"X{index:03d}").status_code == 405
    client.open("/nowhere", method="BREW")

    metrics = client.get("/metrics").get_data(as_text=True)
    series = [line for line in metrics.splitlines() if line.startswith("strata_demo_http_requests_total{")]
    assert len(series) == 2
    assert any('method="other"' in line and 'status="405"' in line for line in series)


def test_yaml_aliases_and_deep_documents_are_refused_quickly() -> None:
    bomb = "\n".join(
        ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
        + [f"a{i}: &a{i} [{','.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 9)]
        + ["description: *a8"]
    )
    started = time.perf_counter()
    with pytest.raises(BadRequest, match="YAML aliases are not accepted"):
        load_untrusted(bomb, field="yaml")
    assert time.perf_counter() - started < 0.5
    with pytest.raises(BadRequest, match="nested deeper than"):
        load_untrusted("a: " + "[" * 50 + "]" * 50, field="yaml")
    with pytest.raises(BadRequest, match="larger than"):
        load_untrusted("a: " + "x" * 70_000, field="yaml")
    with pytest.raises(BadRequest, match="not valid YAML"):
        load_untrusted("a: [", field="yaml")
    assert load_untrusted("name: g\nfeatures: [{name: f, type: int64}]", field="yaml") == {
        "name": "g", "features": [{"name": "f", "type": "int64"}]
    }  # fmt: skip

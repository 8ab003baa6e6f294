"""strata_kernel.service: the operational surface and JSON errors every deployable gets."""

from __future__ import annotations

import logging

import pytest
from apiflask import APIFlask, Schema
from apiflask.fields import Integer, List, Nested, String
from apiflask.validators import Range
from flask import request
from flask.testing import FlaskClient

from strata_kernel.access import public
from strata_kernel.errors import NotFound, Unavailable
from strata_kernel.logs import REQUEST_ID_HEADER, request_id_var
from strata_kernel.service import add_readiness_check, create_service_app
from tests.support import json_of


class Line(Schema):
    item_id = String(required=True)
    quantity = Integer(required=True, validate=Range(min=1))


class Order(Schema):
    restaurant_id = String(required=True)
    basket = List(Nested(Line), required=True)


def _build_app(database_up: bool = True) -> APIFlask:
    def database() -> str | None:
        return None if database_up else "database: connection refused"

    def model() -> str | None:
        raise RuntimeError("model file missing")

    app = create_service_app("demo", title="Demo", readiness_checks=[database])
    if not database_up:
        add_readiness_check(app, model)

    @app.post("/orders")
    @public
    @app.input(Order, location="json")
    def place(json_data: dict[str, object]) -> dict[str, object]:
        return {"restaurant_id": json_data["restaurant_id"], "request_id": request_id_var.get()}

    @app.post("/raw")
    @public
    def raw() -> dict[str, object]:
        return {"got": request.get_json()}

    @app.get("/orders/<order_id>")
    def get_order(order_id: str) -> dict[str, object]:
        raise NotFound(f"order {order_id} not found", field="order_id")

    @app.get("/etd")
    def etd() -> dict[str, object]:
        raise Unavailable("inference_engine unavailable: connection refused", code="inference_engine_unavailable")

    @app.get("/boom")
    def boom() -> dict[str, object]:
        raise RuntimeError("secret internals /etc/passwd")

    return app


@pytest.fixture
def client() -> FlaskClient:
    return _build_app().test_client()


def test_healthz_and_readyz_when_all_is_well(client: FlaskClient) -> None:
    assert client.get("/healthz").get_json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert (ready.status_code, ready.get_json()) == (200, {"status": "ready"})


def test_readyz_lists_every_failing_check_with_503() -> None:
    client = _build_app(database_up=False).test_client()

    response = client.get("/readyz")

    assert response.status_code == 503
    assert response.get_json() == {
        "status": "not ready",
        "reasons": ["database: connection refused", "model: model file missing"],
    }
    assert "strata_demo_ready 0.0" in client.get("/metrics").get_data(as_text=True)


def test_metrics_count_requests_by_endpoint_method_and_status(client: FlaskClient) -> None:
    client.post("/orders", json={"restaurant_id": "r-1", "basket": []})
    client.post("/orders", json={"restaurant_id": "r-1", "basket": []})
    client.post("/orders", json={"basket": []})
    client.get("/healthz")

    metrics = client.get("/metrics").get_data(as_text=True)

    assert 'strata_demo_http_requests_total{endpoint="/orders",method="POST",status="200"} 2.0' in metrics
    assert 'strata_demo_http_requests_total{endpoint="/orders",method="POST",status="400"} 1.0' in metrics
    assert 'strata_demo_http_request_duration_seconds_count{endpoint="/orders"} 3.0' in metrics
    assert 'endpoint="/healthz"' not in metrics  # probes and scrapes are not traffic


def test_openapi_document_describes_the_routes(client: FlaskClient) -> None:
    spec = client.get("/openapi.json").get_json()
    assert spec["info"]["title"] == "Demo"
    assert {"/orders", "/healthz", "/readyz"} <= set(spec["paths"])


def test_validation_error_is_400_naming_the_field(client: FlaskClient) -> None:
    response = client.post("/orders", json={"restaurant_id": "r-1", "basket": [{"item_id": "i-1", "quantity": 0}]})

    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "invalid_request"
    assert error["field"] == "basket.0.quantity"
    assert error["message"].startswith("basket.0.quantity: ")


def test_missing_field_is_named(client: FlaskClient) -> None:
    response = client.post("/orders", json={"basket": []})
    assert response.status_code == 400
    assert response.get_json()["error"]["field"] == "restaurant_id"


@pytest.mark.parametrize("path", ["/orders", "/raw"])
def test_malformed_json_is_400(client: FlaskClient, path: str) -> None:
    response = client.post(path, data="{not json", content_type="application/json")

    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "invalid_request"
    assert error["field"] == "body"


def test_strata_errors_keep_their_status_code_and_field(client: FlaskClient) -> None:
    missing = client.get("/orders/o-9")
    assert (missing.status_code, missing.get_json()) == (
        404,
        {"error": {"code": "not_found", "message": "order o-9 not found", "field": "order_id"}},
    )
    unavailable = client.get("/etd")
    assert unavailable.status_code == 503
    assert unavailable.get_json()["error"]["code"] == "inference_engine_unavailable"


def test_unknown_route_is_a_json_404(client: FlaskClient) -> None:
    response = client.get("/nowhere")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


def test_unexpected_exception_is_500_without_internals(client: FlaskClient, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR):
        response = client.get("/boom", headers={REQUEST_ID_HEADER: "req-42"})

    assert response.status_code == 500
    body = response.get_data(as_text=True)
    assert "secret internals" not in body and "Traceback" not in body
    assert response.get_json()["error"] == {"code": "internal_error", "message": "internal error (request req-42)"}
    assert "secret internals" in caplog.text  # the operator still gets the stack trace in the logs


def test_request_id_is_propagated_or_created(client: FlaskClient) -> None:
    given = client.post("/orders", json={"restaurant_id": "r-1", "basket": []}, headers={REQUEST_ID_HEADER: "abc123"})
    assert given.headers[REQUEST_ID_HEADER] == "abc123"
    assert given.get_json()["request_id"] == "abc123"

    created = client.post("/orders", json={"restaurant_id": "r-1", "basket": []})
    assert len(created.headers[REQUEST_ID_HEADER]) == 16
    assert created.get_json()["request_id"] == created.headers[REQUEST_ID_HEADER]
    assert request_id_var.get() == "-"  # reset after the request


def test_docs_load_swagger_ui_from_the_service_itself_never_a_cdn() -> None:
    import re

    client = create_service_app("demo", title="Demo").test_client()
    page = client.get("/docs")

    assert page.status_code == 200
    references = re.findall(r'(?:href|src)="([^"]+)"', page.get_data(as_text=True))
    assert references and all(ref.startswith("/docs-assets/") for ref in references), references
    for ref in references:
        asset = client.get(ref)
        assert asset.status_code == 200 and len(asset.data) > 0, ref
    assert client.get("/docs-assets/../../etc/passwd").status_code == 404


def test_no_error_body_shows_a_server_path() -> None:
    app = create_service_app("demo", title="Demo", readiness_checks=[lambda: "cannot open /srv/strata/var/x.db"])

    @app.get("/load")
    def load() -> dict[str, object]:
        raise Unavailable("model files missing: [Errno 2] No such file: '/work/strata/var/mlflow/artifacts/7/m.ubj'")

    client = app.test_client()
    error = json_of(client.get("/load"))["error"]["message"]
    assert "/work/" not in error and "'.../m.ubj'" in error
    assert json_of(client.get("/readyz"))["reasons"] == ["cannot open .../x.db"]
